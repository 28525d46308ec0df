"""String helpers."""

import re


def slugify(text):
    """Lower-case words joined by hyphens: "Hello, World!" -> "hello-world"."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)


def is_palindrome(text):
    """True when the letters and digits read the same both ways."""
    letters = [c for c in text.lower() if c.isalnum()]
    return letters == letters[::-1]


def word_count(text):
    """Number of whitespace-separated words."""
    return len(text.split())
