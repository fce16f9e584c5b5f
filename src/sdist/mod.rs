//! Building pure-Python wheels from sdists (PEP 517), for the packages whose index publishes
//! no wheel.
//!
//! - `tar`: a strict reader of the tar inside a `.tar.gz` sdist.
//! - `extract`: safe extraction (PEP 706 `data` filter and more) and `PKG-INFO` (PEP 643).
//!
//! Building executes code from the index (the sdist's build backend and its `setup.py`) on
//! the machine that runs lbuild, with a cleared environment and a timeout.

pub(crate) mod extract;
pub(crate) mod tar;
