//! dockhand's real path in relay mode (see the suite's docs).

use anyhow::Result;

use super::Env;
use crate::suites::Options;
use crate::table::Report;

pub(super) fn tables(_env: &Env, _options: &Options, _report: &mut Report) -> Result<()> {
    Ok(())
}
