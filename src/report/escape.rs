//! Test ids and tags as shown to people: control characters are escaped,
//! so that an id cannot move the cursor, rewrite a line or change the
//! terminal's colours (docs/repository.md, "Stored as given, shown escaped").

use std::borrow::Cow;

/// `text` with every control character (C0, DEL and C1) written as Rust
/// writes it in a string literal: `\n`, `\r`, `\t`, `\0` by name, the
/// others by code point, `\u{1b}`, `\u{7f}`, `\u{85}`. Everything else,
/// backslashes too, is left as it is: an id reads as itself unless it
/// holds a control character.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_debug());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_nothing_else() {
        assert!(matches!(
            escape_controls("pkg.T.test_ünï[a\\b] x"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("a\u{1b}[2Jb\rc\nd\te\0f\u{7f}g\u{85}h\u{9f}"),
            "a\\u{1b}[2Jb\\rc\\nd\\te\\0f\\u{7f}g\\u{85}h\\u{9f}"
        );
    }
}
