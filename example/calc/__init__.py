"""calc: a tiny calculator package, the code under test of testr's example.

Three small modules: ``arith`` (numbers), ``text`` (strings) and ``rpn``
(a reverse Polish notation evaluator built on ``arith``).
"""
