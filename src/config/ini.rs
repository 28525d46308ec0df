//! A reader for the INI dialect of Python's `configparser`, as the Python testr
//! reads `.testr.conf`: sections, `key = value` or `key: value`, indented
//! continuation lines, `#`/`;` comments, and `%%` / `%(key)s` interpolation.

use std::collections::BTreeMap;

/// A syntax error, with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parsed sections. Keys are lower-cased, as `configparser` does; the
/// `DEFAULT` section's keys are visible from every section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

const DEFAULT: &str = "DEFAULT";

impl Ini {
    pub fn parse(text: &str) -> Result<Ini, ParseError> {
        let mut raw: BTreeMap<String, BTreeMap<String, (usize, String)>> = BTreeMap::new();
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let trimmed = line.trim();
            let is_continuation = line.starts_with([' ', '\t']) && !trimmed.is_empty();
            if is_continuation {
                if let (Some(section), Some(key)) = (&section, &last_key) {
                    let value = raw
                        .get_mut(section)
                        .and_then(|s| s.get_mut(key))
                        .expect("the key of a continuation line was stored");
                    if !value.1.is_empty() {
                        value.1.push('\n');
                    }
                    value.1.push_str(trimmed);
                    continue;
                }
            }
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| ParseError {
                    line: number,
                    message: format!("unclosed section header `{trimmed}`"),
                })?;
                let name = name.trim().to_owned();
                raw.entry(name.clone()).or_default();
                section = Some(name);
                last_key = None;
                continue;
            }
            let Some(current) = &section else {
                return Err(ParseError {
                    line: number,
                    message: "a key before any section header (expected `[DEFAULT]`)".into(),
                });
            };
            let split = trimmed.find(['=', ':']).ok_or_else(|| ParseError {
                line: number,
                message: format!("expected `key = value`, found `{trimmed}`"),
            })?;
            let key = trimmed[..split].trim().to_lowercase();
            if key.is_empty() {
                return Err(ParseError {
                    line: number,
                    message: "a value with no key".into(),
                });
            }
            let value = trimmed[split + 1..].trim().to_owned();
            raw.entry(current.clone())
                .or_default()
                .insert(key.clone(), (number, value));
            last_key = Some(key);
        }
        let defaults = raw.get(DEFAULT).cloned().unwrap_or_default();
        let mut sections = BTreeMap::new();
        for (name, keys) in &raw {
            let mut resolved = BTreeMap::new();
            for (key, (line, value)) in keys {
                let value = interpolate(value, *line, [keys, &defaults])?;
                resolved.insert(key.clone(), value);
            }
            sections.insert(name.clone(), resolved);
        }
        Ok(Ini { sections })
    }

    /// The value of `key` in `section`, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let key = key.to_lowercase();
        self.sections
            .get(section)
            .and_then(|s| s.get(&key))
            .or_else(|| self.sections.get(DEFAULT).and_then(|s| s.get(&key)))
            .map(String::as_str)
    }

    /// The keys `section` sets itself, without those of `[DEFAULT]`.
    pub fn keys(&self, section: &str) -> impl Iterator<Item = &str> {
        self.sections
            .get(section)
            .into_iter()
            .flat_map(|keys| keys.keys().map(String::as_str))
    }

    /// The names of the sections other than `[DEFAULT]`.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections
            .keys()
            .map(String::as_str)
            .filter(|name| *name != DEFAULT)
    }
}

/// Expands `%%` and `%(key)s` as `configparser`'s basic interpolation does;
/// references are expanded once (no recursion), which is all `.testr.conf`
/// files use in practice.
fn interpolate(
    value: &str,
    line: usize,
    scopes: [&BTreeMap<String, (usize, String)>; 2],
) -> Result<String, ParseError> {
    let lookup = |key: &str| scopes.iter().find_map(|s| s.get(key)).map(|v| v.1.as_str());
    let error = |message: String| ParseError { line, message };
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(') {
            let close = tail.find(")s").ok_or_else(|| {
                error(format!(
                    "bad interpolation in `{value}`: write `%%` for a literal `%`"
                ))
            })?;
            let name = tail[..close].to_lowercase();
            let referenced =
                lookup(&name).ok_or_else(|| error(format!("`%({name})s` names no key")))?;
            out.push_str(referenced);
            rest = &tail[close + 2..];
        } else {
            return Err(error(format!(
                "a lone `%` in `{value}`: write `%%` for a literal `%`"
            )));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_continuations_and_escapes() {
        let ini = Ini::parse(
            "# comment\n[DEFAULT]\ntest_command=python -m subunit.run $IDOPTION\n  discover .\nfilter_tags: a b\nfmt = 100%% done %(filter_tags)s\n",
        )
        .unwrap();
        assert_eq!(
            ini.get("DEFAULT", "test_command"),
            Some("python -m subunit.run $IDOPTION\ndiscover .")
        );
        assert_eq!(ini.get("DEFAULT", "FILTER_TAGS"), Some("a b"));
        assert_eq!(ini.get("DEFAULT", "fmt"), Some("100% done a b"));
    }

    #[test]
    fn sections_fall_back_to_default() {
        let ini = Ini::parse("[DEFAULT]\na = 1\nb = 2\n[profile py312]\nb = 3\n").unwrap();
        assert_eq!(ini.get("profile py312", "a"), Some("1"));
        assert_eq!(ini.get("profile py312", "b"), Some("3"));
        assert_eq!(ini.section_names().collect::<Vec<_>>(), ["profile py312"]);
    }

    #[test]
    fn garbage_is_an_error_with_its_line() {
        let err = Ini::parse("[DEFAULT]\nthis is not ini\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("expected `key = value`"), "{err}");
        assert_eq!(Ini::parse("a = 1\n").unwrap_err().line, 1);
        assert_eq!(Ini::parse("[DEFAULT\n").unwrap_err().line, 1);
        let err = Ini::parse("[DEFAULT]\nx = 50%\n").unwrap_err();
        assert!(err.message.contains("%%"), "{err}");
    }
}
