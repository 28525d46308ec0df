"""Tests of calc.text, with a module fixture (setUpModule)."""

import unittest

from calc import text

# Filled once for the whole module by setUpModule, before any test here.
PHRASES = {}


def setUpModule():
    PHRASES.update({
        "palindromes": ["A man, a plan, a canal: Panama", "racecar", "No 'x' in Nixon"],
        "others": ["testr", "subunit v2"],
    })


def tearDownModule():
    PHRASES.clear()


class TestSlugify(unittest.TestCase):

    def test_simple(self):
        self.assertEqual(text.slugify("Hello, World!"), "hello-world")

    def test_digits_kept(self):
        self.assertEqual(text.slugify("Subunit v2 streams"), "subunit-v2-streams")

    def test_empty(self):
        self.assertEqual(text.slugify("!!!"), "")


class TestPalindromes(unittest.TestCase):

    def test_palindromes(self):
        for phrase in PHRASES["palindromes"]:
            with self.subTest(phrase=phrase):
                self.assertTrue(text.is_palindrome(phrase))

    def test_not_palindromes(self):
        for phrase in PHRASES["others"]:
            # This print is captured: testr stores it as the test's `stdout`
            # attachment instead of mixing it into the result stream.
            print("checking %r" % phrase)
            self.assertFalse(text.is_palindrome(phrase))

    def test_word_count(self):
        self.assertEqual(text.word_count("  one two\tthree\n"), 3)
