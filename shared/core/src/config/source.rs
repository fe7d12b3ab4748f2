//! Where settings come from outside a binary's own `Cli`: the process environment (tools that
//! have no clap command line of their own) or a list of pairs (tests).

use std::collections::BTreeMap;

use clap::{Args, Command, FromArgMatches};

use super::values::config_error;
use super::ConfigError;

/// `A` from the process environment alone.
pub fn from_env<A: Args + FromArgMatches>() -> Result<A, ConfigError> {
    let matches = A::augment_args(Command::new("settings"))
        .try_get_matches_from(["settings"])
        .map_err(|e| config_error(&e))?;
    A::from_arg_matches(&matches).map_err(|e| config_error(&e))
}

/// `A` from these variables alone, as if they were the whole environment: a variable exported in
/// the shell that runs the tests must not change what a test builds. When a name comes twice the
/// last value wins, so that a test can override a helper's default by appending a pair.
///
/// clap reads each variable from the process when an argument is built, so the arguments' env
/// lookups are switched off and the pairs are given as `--flag=value` instead, through the same
/// parsers and defaults.
pub fn from_pairs<A: Args + FromArgMatches>(pairs: &[(&str, &str)]) -> Result<A, ConfigError> {
    let command = A::augment_args(Command::new("settings"));
    // (variable, flag) of every setting.
    let names: Vec<(String, String)> = command
        .get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_str()?.to_string();
            Some((env, arg.get_long()?.to_string()))
        })
        .collect();
    let flag_of = |name: &str| {
        names
            .iter()
            .find(|(env, _)| env == name)
            .map(|(_, long)| long)
    };
    let values: BTreeMap<&str, &str> = pairs.iter().copied().collect();
    let argv = std::iter::once("settings".to_string()).chain(
        values
            .into_iter()
            .filter_map(|(name, value)| Some(format!("--{}={value}", flag_of(name)?))),
    );
    let named = |error: clap::Error| {
        let mut error = config_error(&error);
        // Without the lookups an error names the flag: name the variable again.
        if let Some((env, _)) = names
            .iter()
            .find(|(_, long)| error.name.strip_prefix("--") == Some(long.as_str()))
        {
            error.name = env.clone();
        }
        error
    };
    let matches = command
        .mut_args(|arg| arg.env(None))
        .try_get_matches_from(argv)
        .map_err(named)?;
    A::from_arg_matches(&matches).map_err(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{number_in, text};

    #[derive(Debug, clap::Args)]
    struct Example {
        #[arg(long, env = "OAUTH_CORE_TEST_SIZE", default_value_t = 10, value_parser = number_in(1..=100u32))]
        size: u32,
        #[arg(long, env = "OAUTH_CORE_TEST_NAME", value_parser = text())]
        name: Option<String>,
    }

    #[test]
    fn the_pairs_are_the_whole_environment() {
        // As a developer's shell might; only this test reads the process environment.
        std::env::set_var("OAUTH_CORE_TEST_NAME", "from the shell");
        let example = from_pairs::<Example>(&[]).unwrap();
        assert_eq!(example.name, None);
        assert_eq!(example.size, 10);
        let example = from_pairs::<Example>(&[("OAUTH_CORE_TEST_NAME", "given")]).unwrap();
        assert_eq!(example.name.as_deref(), Some("given"));
        assert_eq!(
            from_env::<Example>().unwrap().name.as_deref(),
            Some("from the shell")
        );
    }

    #[test]
    fn the_last_pair_wins_and_unknown_names_are_ignored() {
        let example = from_pairs::<Example>(&[
            ("OAUTH_CORE_TEST_SIZE", "1"),
            ("HOME", "/root"),
            ("OAUTH_CORE_TEST_SIZE", "2"),
        ])
        .unwrap();
        assert_eq!(example.size, 2);
    }

    #[test]
    fn a_value_that_looks_like_a_flag_is_still_a_value() {
        let err = from_pairs::<Example>(&[("OAUTH_CORE_TEST_SIZE", "-5")]).unwrap_err();
        assert_eq!(err.name, "OAUTH_CORE_TEST_SIZE");
        let example = from_pairs::<Example>(&[("OAUTH_CORE_TEST_NAME", "--size=3")]).unwrap();
        assert_eq!(example.name.as_deref(), Some("--size=3"));
    }

    #[test]
    fn a_blank_value_without_a_default_is_refused_as_unset() {
        let err = from_pairs::<Example>(&[("OAUTH_CORE_TEST_NAME", "  ")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::new("OAUTH_CORE_TEST_NAME", "is required but not set")
        );
    }
}
