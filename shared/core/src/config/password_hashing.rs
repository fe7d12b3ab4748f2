//! BCRYPT_COST, read the same way by both services: each hashes the passwords of the users it
//! creates.

use super::{number_in, HELP_HEADING};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = HELP_HEADING)]
pub struct PasswordHashingArgs {
    /// Cost of new password hashes; each step doubles the work of a login.
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12, value_parser = number_in(4..=31u32))]
    pub bcrypt_cost: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_pairs;

    #[test]
    fn a_word_where_a_number_belongs_is_refused() {
        let err = from_pairs::<PasswordHashingArgs>(&[("BCRYPT_COST", "twelve")]).unwrap_err();
        assert_eq!(err.name, "BCRYPT_COST");
        assert_eq!(err.reason, "\"twelve\" is not a whole number");
    }

    #[test]
    fn the_cost_lies_between_4_and_31() {
        for (value, ok) in [("3", false), ("4", true), ("31", true), ("32", false)] {
            let parsed = from_pairs::<PasswordHashingArgs>(&[("BCRYPT_COST", value)]);
            assert_eq!(parsed.is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn blank_means_the_default_and_blanks_around_a_value_are_ignored() {
        let cost = |value| {
            from_pairs::<PasswordHashingArgs>(&[("BCRYPT_COST", value)])
                .unwrap()
                .bcrypt_cost
        };
        assert_eq!(cost(" "), 12);
        assert_eq!(cost(""), 12);
        assert_eq!(cost(" 5\n"), 5);
    }
}
