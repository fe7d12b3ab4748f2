//! A `/metrics` answer read back as samples, for tests that check what the services export.
//! The services write the format with prometheus-client; this reads the subset it writes
//! (`name{label="value",...} number`, with `\"`, `\\` and `\n` escapes in values).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone)]
pub struct Scrape {
    pub samples: Vec<Sample>,
    /// Every metric family named by a `# TYPE` line, with its type.
    pub families: BTreeMap<String, String>,
}

impl Scrape {
    pub fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        let mut families = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name type");
                families.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with('#') && !line.trim().is_empty() {
                samples.push(parse_sample(line));
            }
        }
        Self { samples, families }
    }

    /// The sum of `name`'s samples whose labels include every pair of `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|s| s.value).sum()
    }

    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// Whether a family of this name (as `# TYPE` names it: without `_total` and the like) is
    /// exported.
    pub fn has_family(&self, name: &str) -> bool {
        self.families.contains_key(name)
    }
}

fn parse_sample(line: &str) -> Sample {
    let (name_end, labels, rest) = match line.find('{') {
        Some(open) => {
            let (labels, close) = parse_labels(&line[open + 1..]);
            (open, labels, &line[open + 1 + close + 1..])
        }
        None => {
            let space = line.find(' ').expect("name value");
            (space, BTreeMap::new(), &line[space..])
        }
    };
    let value = rest
        .split_whitespace()
        .next()
        .expect("a value")
        .parse()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    Sample {
        name: line[..name_end].to_string(),
        labels,
        value,
    }
}

/// The labels up to the closing brace, and the brace's index in `text`.
fn parse_labels(text: &str) -> (BTreeMap<String, String>, usize) {
    let mut labels = BTreeMap::new();
    let mut chars = text.char_indices().peekable();
    loop {
        match chars.peek() {
            Some((i, '}')) => return (labels, *i),
            Some((_, ',')) => {
                chars.next();
                continue;
            }
            None => panic!("unterminated labels: {text}"),
            _ => {}
        }
        let mut key = String::new();
        for (_, c) in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{text}");
        let mut value = String::new();
        while let Some((_, c)) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("{text}"),
                },
                c => value.push(c),
            }
        }
        labels.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_with_and_without_labels() {
        let scrape = Scrape::parse(concat!(
            "# TYPE http_requests counter\n",
            "http_requests_total{route=\"/users/{id}/\",method=\"GET\",status=\"200\"} 3\n",
            "http_requests_total{route=\"/a\\\"b\",method=\"GET\",status=\"404\"} 1\n",
            "db_pool_waiting 0\n",
            "# EOF\n"
        ));
        assert!(scrape.has_family("http_requests"));
        assert_eq!(scrape.sum("http_requests_total", &[("method", "GET")]), 4.0);
        assert_eq!(
            scrape.sum("http_requests_total", &[("route", "/users/{id}/")]),
            3.0
        );
        assert_eq!(
            scrape.sum("http_requests_total", &[("route", "/a\"b")]),
            1.0
        );
        assert_eq!(scrape.sum("db_pool_waiting", &[]), 0.0);
    }
}
