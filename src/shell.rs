//! The little of POSIX `sh` that testr reads and writes: quoting a value as
//! one word, splitting a simple command into its words (to recognise the
//! test commands it can run better itself), and expanding parameters the
//! way the shell will, to show a command as it runs.

use std::borrow::Cow;

/// `value` as one shell word: unchanged when it holds only characters the
/// shell leaves alone, else in single quotes (a `'` becomes `'\''`).
pub fn quote(value: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./,:=@%+".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("'{}'", value.replace('\'', r"'\''")))
    }
}

/// One word of a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written, quotes and all: what is written back.
    pub raw: String,
    /// Its value when it holds no expansion (quotes removed), else `None`.
    pub literal: Option<String>,
}

impl Word {
    /// Whether the word is exactly `text`, with no expansion in it.
    pub fn is(&self, text: &str) -> bool {
        self.literal.as_deref() == Some(text)
    }
}

/// Why a command is not one simple command that testr can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("it holds `{0}`, which makes it more than one simple command")]
    Operator(String),
    #[error("it holds a command substitution")]
    Substitution,
    #[error("it has an unclosed {0}")]
    Unclosed(&'static str),
}

/// Splits a simple command (no pipes, lists, redirections, subshells or
/// command substitutions) into words, as the shell does before it
/// expands them. A backslash-newline joins lines, as in `.testr.conf`
/// values continued over several lines.
pub fn split(command: &str) -> Result<Vec<Word>, SplitError> {
    let mut words = Vec::new();
    let mut chars = command.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut raw = String::new();
        let mut literal = Some(String::new());
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' => break,
                '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => {
                    return Err(SplitError::Operator(c.escape_default().to_string()));
                }
                '`' => return Err(SplitError::Substitution),
                '#' if raw.is_empty() => return Err(SplitError::Operator("#".into())),
                '\\' => {
                    chars.next();
                    match chars.next() {
                        Some('\n') if raw.is_empty() => break,
                        Some('\n') => {}
                        Some(escaped) => {
                            raw.push('\\');
                            raw.push(escaped);
                            push(&mut literal, escaped);
                        }
                        None => raw.push('\\'),
                    }
                }
                '\'' => {
                    chars.next();
                    raw.push('\'');
                    loop {
                        match chars.next() {
                            Some('\'') => break,
                            Some(inner) => {
                                raw.push(inner);
                                push(&mut literal, inner);
                            }
                            None => return Err(SplitError::Unclosed("single quote")),
                        }
                    }
                    raw.push('\'');
                }
                '"' => {
                    chars.next();
                    raw.push('"');
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('`') => return Err(SplitError::Substitution),
                            Some('\\') => {
                                raw.push('\\');
                                if let Some(escaped) = chars.next() {
                                    raw.push(escaped);
                                    push(&mut literal, escaped);
                                }
                            }
                            Some('$') => {
                                raw.push('$');
                                literal = None;
                                if chars.peek() == Some(&'(') {
                                    return Err(SplitError::Substitution);
                                }
                            }
                            Some(inner) => {
                                raw.push(inner);
                                push(&mut literal, inner);
                            }
                            None => return Err(SplitError::Unclosed("double quote")),
                        }
                    }
                    raw.push('"');
                }
                '$' => {
                    chars.next();
                    raw.push('$');
                    literal = None;
                    match chars.peek() {
                        Some('(') => return Err(SplitError::Substitution),
                        Some('{') => loop {
                            match chars.next() {
                                Some('}') => {
                                    raw.push('}');
                                    break;
                                }
                                Some('`') => return Err(SplitError::Substitution),
                                Some(inner) => raw.push(inner),
                                None => return Err(SplitError::Unclosed("`${`")),
                            }
                        },
                        _ => {}
                    }
                }
                _ => {
                    chars.next();
                    raw.push(c);
                    push(&mut literal, c);
                }
            }
        }
        if !raw.is_empty() {
            words.push(Word { raw, literal });
        }
    }
}

fn push(literal: &mut Option<String>, c: char) {
    if let Some(text) = literal {
        text.push(c);
    }
}

/// `command` with its parameters expanded as the shell will expand them,
/// outside single quotes: `$NAME`, `${NAME}`, `${NAME:-word}`,
/// `${NAME-word}`, looked up with `lookup`. Anything else is left as it
/// is. This is for showing a command, never for running it: the shell
/// runs the command as written.
pub fn expand_for_display(command: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(command.len());
    let mut rest = command;
    let mut in_single = false;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            in_single = !in_single;
        }
        if c == '$' && !in_single {
            if let Some((value, used)) = parameter(&rest[1..], &lookup) {
                out.push_str(&value);
                rest = &rest[1 + used..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The expansion of the parameter that `text` (what follows a `$`) starts
/// with, and how many bytes of `text` it took.
fn parameter(text: &str, lookup: &impl Fn(&str) -> Option<String>) -> Option<(String, usize)> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(braced) = text.strip_prefix('{') {
        let close = braced.find('}')?;
        let inner = &braced[..close];
        let name_len = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
        let (name, operator) = inner.split_at(name_len);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let value = lookup(name);
        let expanded = if operator.is_empty() {
            value.unwrap_or_default()
        } else if let Some(default) = operator.strip_prefix(":-") {
            value
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        } else if let Some(default) = operator.strip_prefix('-') {
            value.unwrap_or_else(|| default.to_owned())
        } else {
            return None;
        };
        return Some((expanded, close + 2));
    }
    let len = text.find(|c: char| !is_name(c)).unwrap_or(text.len());
    if len == 0 || text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((lookup(&text[..len]).unwrap_or_default(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(command: &str) -> Vec<String> {
        split(command).unwrap().into_iter().map(|w| w.raw).collect()
    }

    #[test]
    fn values_are_quoted_whatever_they_hold() {
        assert_eq!(quote("pkg.Test.test_a"), "pkg.Test.test_a");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's $HOME `x`"), r"'it'\''s $HOME `x`'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn words_keep_their_quotes_and_know_their_literal_value() {
        let words = split(r#"A=1 ${PYTHON:-python} -m 'sub unit' "x y" $LISTOPT a\ b"#).unwrap();
        let raws: Vec<&str> = words.iter().map(|w| w.raw.as_str()).collect();
        assert_eq!(
            raws,
            [
                "A=1",
                "${PYTHON:-python}",
                "-m",
                "'sub unit'",
                "\"x y\"",
                "$LISTOPT",
                r"a\ b"
            ]
        );
        assert!(words[2].is("-m"));
        assert!(words[3].is("sub unit"));
        assert!(words[4].is("x y"));
        assert_eq!(words[1].literal, None);
        assert_eq!(words[5].literal, None);
        assert!(words[6].is("a b"));
    }

    #[test]
    fn backslash_newline_joins_lines() {
        assert_eq!(
            raw("A=1 \\\nB=2 \\\n  python -m subunit.run"),
            ["A=1", "B=2", "python", "-m", "subunit.run"]
        );
    }

    #[test]
    fn more_than_a_simple_command_is_refused() {
        for (command, expected) in [
            ("a | b", SplitError::Operator("|".into())),
            ("a; b", SplitError::Operator(";".into())),
            ("a\nb", SplitError::Operator("\\n".into())),
            ("a > out", SplitError::Operator(">".into())),
            ("a $(b)", SplitError::Substitution),
            ("a `b`", SplitError::Substitution),
            ("a \"$(b)\"", SplitError::Substitution),
            ("a 'b", SplitError::Unclosed("single quote")),
            ("a ${b", SplitError::Unclosed("`${`")),
        ] {
            assert_eq!(split(command), Err(expected), "{command}");
        }
        assert_eq!(raw("a '|' \"x;y\""), ["a", "'|'", "\"x;y\""]);
    }

    #[test]
    fn parameters_expand_as_the_shell_expands_them() {
        let lookup = |name: &str| match name {
            "SET" => Some("coverage run".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let shown = expand_for_display(
            "${PYTHON:-python3} ${SET:-x} ${EMPTY:-d} ${EMPTY-d} $SET/ '$SET' $1 ${UNSET} $ x",
            lookup,
        );
        assert_eq!(
            shown,
            "python3 coverage run d  coverage run/ '$SET' $1  $ x"
        );
    }
}
