"""A reverse Polish notation evaluator: "3 4 + 2 *" -> 14."""

from calc import arith

OPERATORS = {
    "+": arith.add,
    "-": arith.subtract,
    "*": arith.multiply,
    "/": arith.divide,
}


class RPNError(ValueError):
    """A malformed expression."""


class Calculator(object):
    """Evaluates RPN expressions and remembers them."""

    def __init__(self):
        self.history = []

    def evaluate(self, expression):
        stack = []
        for token in expression.split():
            if token in OPERATORS:
                if len(stack) < 2:
                    raise RPNError("not enough operands for %r" % token)
                right = stack.pop()
                left = stack.pop()
                stack.append(OPERATORS[token](left, right))
            else:
                try:
                    stack.append(float(token) if "." in token else int(token))
                except ValueError:
                    raise RPNError("unknown token %r" % token)
        if len(stack) != 1:
            raise RPNError("expression leaves %d values" % len(stack))
        self.history.append((expression, stack[0]))
        return stack[0]
