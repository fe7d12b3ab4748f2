//! The migrations are compiled into this crate (`embed_migrations!`), which does not tell cargo
//! to look at their directory: without this, a new migration would not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
