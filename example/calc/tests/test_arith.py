"""Tests of calc.arith: plain test cases, and the one failure on purpose."""

import unittest

from calc import arith


class TestBasicOperations(unittest.TestCase):

    def test_add(self):
        self.assertEqual(arith.add(2, 3), 5)

    def test_subtract(self):
        self.assertEqual(arith.subtract(2, 3), -1)

    def test_multiply(self):
        self.assertEqual(arith.multiply(4, 2.5), 10.0)

    def test_divide(self):
        self.assertEqual(arith.divide(7, 2), 3.5)

    def test_divide_by_zero(self):
        with self.assertRaises(ZeroDivisionError):
            arith.divide(1, 0)


class TestStatistics(unittest.TestCase):

    def test_mean(self):
        self.assertEqual(arith.mean([1, 2, 3, 4]), 2.5)

    def test_mean_of_nothing(self):
        self.assertRaises(ValueError, arith.mean, [])

    def test_round_money(self):
        self.assertEqual(arith.round_money(3.14159), 3.14)
        self.assertEqual(arith.round_money(-1.236), -1.24)

    def test_known_bug_rounding(self):
        # This test FAILS ON PURPOSE, to show what testr prints for a failure
        # (`testr last`, `testr failing`). round() sees the binary float
        # 2.67499999..., so round_money(2.675) gives 2.67, not 2.68.
        self.assertEqual(arith.round_money(2.675), 2.68)
