//! `profile_tags`: which tags identify a profile (a configuration such as an
//! interpreter or a database), as names or glob patterns (`py3*`).

use regex::Regex;

use crate::model::Profile;

/// A `profile_tags` pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad profile_tags pattern `{pattern}`: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: &'static str,
}

/// The compiled `profile_tags` of a project; empty when none are configured.
#[derive(Debug, Clone, Default)]
pub struct ProfileTags {
    patterns: Vec<Regex>,
}

impl ProfileTags {
    /// Compiles glob patterns: `*` any run of characters, `?` one character,
    /// `[abc]`, `[a-z]` and `[!abc]` classes; everything else is literal.
    pub fn parse(patterns: &[String]) -> Result<ProfileTags, PatternError> {
        let patterns = patterns
            .iter()
            .map(|p| glob_to_regex(p))
            .collect::<Result<_, _>>()?;
        Ok(ProfileTags { patterns })
    }

    /// Adds tags that identify profiles by their exact names.
    pub fn add_names<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        for name in names {
            let pattern = Regex::new(&format!("^{}$", regex::escape(name)))
                .expect("an escaped name is a valid pattern");
            self.patterns.push(pattern);
        }
    }

    /// Whether any profile tags are configured.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `tag` is a profile tag.
    pub fn matches(&self, tag: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(tag))
    }

    /// The profile of a result carrying `tags`: its tags that are profile
    /// tags. Every other tag (`worker-N`, ...) leaves the profile alone.
    pub fn profile_of(&self, tags: &[String]) -> Profile {
        Profile::new(tags.iter().filter(|t| self.matches(t)).cloned())
    }
}

fn glob_to_regex(pattern: &str) -> Result<Regex, PatternError> {
    let error = |reason| PatternError {
        pattern: pattern.to_owned(),
        reason,
    };
    let mut out = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                out.push('[');
                if chars.next_if_eq(&'!').is_some() {
                    out.push('^');
                }
                let mut members = 0;
                loop {
                    match chars.next() {
                        None => return Err(error("unclosed `[`")),
                        Some(']') if members > 0 => break,
                        Some(']') => return Err(error("empty `[]`")),
                        Some(m) => {
                            members += 1;
                            if m == '-' {
                                out.push('-');
                            } else {
                                out.push_str(&regex::escape(&m.to_string()));
                            }
                        }
                    }
                }
                out.push(']');
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    Regex::new(&out).map_err(|_| error("not a valid pattern"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(patterns: &[&str]) -> ProfileTags {
        ProfileTags::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn names_and_globs_pick_the_profile_tags() {
        let profile_tags = tags(&["py3*", "sqlite", "postgre[s]", "db-[!x]"]);
        let result_tags: Vec<String> = ["py312", "postgres", "worker-1", "db-y", "db-x"]
            .into_iter()
            .map(String::from)
            .collect();
        let profile = profile_tags.profile_of(&result_tags);
        assert_eq!(profile.to_string(), "db-y,postgres,py312");
        assert!(!profile_tags.matches("py2"));
        assert!(tags(&[]).profile_of(&result_tags).is_empty());
    }

    #[test]
    fn malformed_patterns_are_named() {
        let err = ProfileTags::parse(&["py[3".to_string()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad profile_tags pattern `py[3`: unclosed `[`"
        );
        assert!(ProfileTags::parse(&["a[]".to_string()]).is_err());
        assert!(ProfileTags::parse(&["[z-a]".to_string()]).is_err());
    }
}
