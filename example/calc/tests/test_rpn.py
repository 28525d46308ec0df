"""Tests of calc.rpn, with a class fixture (setUpClass/tearDownClass), a
skipped test, and two slow tests for `testr slowest`."""

import time
import unittest

from calc import rpn


class TestCalculator(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One calculator shared by the tests of the class that run on one
        # worker: its history grows across them.
        cls.calculator = rpn.Calculator()

    @classmethod
    def tearDownClass(cls):
        del cls.calculator

    def test_addition(self):
        self.assertEqual(self.calculator.evaluate("3 4 +"), 7)

    def test_nested(self):
        self.assertEqual(self.calculator.evaluate("3 4 + 2 *"), 14)

    def test_not_enough_operands(self):
        with self.assertRaises(rpn.RPNError):
            self.calculator.evaluate("1 +")

    def test_long_expression(self):
        # Slow on purpose (a stand-in for real work), so that `testr slowest`
        # has something to show.
        time.sleep(0.2)
        expression = " ".join(["1"] * 100 + ["+"] * 99)
        self.assertEqual(self.calculator.evaluate(expression), 100)

    def test_many_evaluations(self):
        # Slow on purpose too, a little less.
        for i in range(10):
            time.sleep(0.01)
            self.assertEqual(self.calculator.evaluate("%d 2 *" % i), 2 * i)

    @unittest.skip("exponentiation (^) is not implemented yet")
    def test_power(self):
        self.assertEqual(self.calculator.evaluate("2 10 ^"), 1024)
