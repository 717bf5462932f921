//! Development settings (`dockhand dev`): one row per extension in
//! `dev_settings`, absent when the extension is not in dev mode.

use std::collections::BTreeMap;

use dockhand_spec::ExtensionId;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::db::execute_cached;
use super::{State, StateError};
use crate::dev::{DevSettings, DevUiSource};

type Row = (String, Option<String>, bool);

impl State {
    /// The dev settings of `id` (the default when it has none).
    pub fn dev_settings(&self, id: &ExtensionId) -> Result<DevSettings, StateError> {
        let row = self.read_row(
            || format!("read the dev settings of {id}"),
            "SELECT id, ui_source, debug FROM dev_settings WHERE id = ?1",
            [id.as_str()],
            read,
        )?;
        row.map(|r| self.decode_dev(r).map(|(_, s)| s))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Every extension in dev mode, with its settings.
    pub fn all_dev_settings(&self) -> Result<BTreeMap<ExtensionId, DevSettings>, StateError> {
        let rows = {
            let conn = self.conn();
            select_all(&conn).map_err(|e| self.err("read the dev settings", e))?
        };
        rows.into_iter().map(|r| self.decode_dev(r)).collect()
    }

    /// Sets the dev settings of the installed extension `id`; the default
    /// settings remove its row. [`StateError::NotInstalled`] when `id` is
    /// not installed.
    pub fn set_dev_settings(
        &self,
        id: &ExtensionId,
        settings: &DevSettings,
    ) -> Result<(), StateError> {
        let what = || format!("save the dev settings of {id}");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        let installed = tx
            .query_row(
                "SELECT 1 FROM extensions WHERE id = ?1",
                [id.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.err(what(), e))?
            .is_some();
        if !installed {
            return Err(StateError::NotInstalled { id: id.clone() });
        }
        let result = if settings.is_default() {
            tx.execute("DELETE FROM dev_settings WHERE id = ?1", [id.as_str()])
        } else {
            tx.execute(
                "INSERT OR REPLACE INTO dev_settings (id, ui_source, debug) VALUES (?1, ?2, ?3)",
                params![
                    id.as_str(),
                    settings.ui_source.as_ref().map(DevUiSource::as_str),
                    settings.debug
                ],
            )
        };
        result.map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))
    }

    /// Takes `id` out of dev mode; `false` when it was not in it.
    pub fn reset_dev_settings(&self, id: &ExtensionId) -> Result<bool, StateError> {
        let conn = self.conn();
        execute_cached(
            &conn,
            "DELETE FROM dev_settings WHERE id = ?1",
            [id.as_str()],
        )
        .map(|n| n > 0)
        .map_err(|e| self.err(format!("reset the dev settings of {id}"), e))
    }

    fn decode_dev(
        &self,
        (id, ui_source, debug): Row,
    ) -> Result<(ExtensionId, DevSettings), StateError> {
        let what = format!("the dev settings of {id}");
        let parsed = ExtensionId::parse(&id).map_err(|e| self.corrupt(&what, e.to_string()))?;
        // Checked when set; --allow-remote may have allowed any host.
        let ui_source = ui_source
            .map(|u| DevUiSource::parse(&u, true))
            .transpose()
            .map_err(|e| self.corrupt(&what, e.to_string()))?;
        Ok((parsed, DevSettings { ui_source, debug }))
    }
}

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn select_all(conn: &Connection) -> rusqlite::Result<Vec<Row>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, ui_source, debug FROM dev_settings ORDER BY id")?;
    let rows = stmt.query_map([], read)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{temp_state, with_sample};
    use super::*;

    fn dev(url: Option<&str>, debug: bool) -> DevSettings {
        DevSettings {
            ui_source: url.map(|u| DevUiSource::parse(u, false).unwrap()),
            debug,
        }
    }

    #[test]
    fn set_get_reset() {
        let (_tmp, state, record) = with_sample("acme/ext");
        let id = record.id.clone();
        assert_eq!(state.dev_settings(&id).unwrap(), DevSettings::default());
        assert!(state.all_dev_settings().unwrap().is_empty());

        state
            .set_dev_settings(&id, &dev(Some("http://localhost:5173/app/"), false))
            .unwrap();
        let got = state.dev_settings(&id).unwrap();
        assert_eq!(
            got.ui_source.as_ref().unwrap().as_str(),
            "http://localhost:5173/app/"
        );
        assert!(!got.debug);
        state
            .set_dev_settings(&id, &DevSettings { debug: true, ..got })
            .unwrap();
        let all = state.all_dev_settings().unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[&id].debug && all[&id].ui_source.is_some());

        assert!(state.reset_dev_settings(&id).unwrap());
        assert!(!state.reset_dev_settings(&id).unwrap());
        assert_eq!(state.dev_settings(&id).unwrap(), DevSettings::default());
    }

    #[test]
    fn default_settings_leave_no_row() {
        let (_tmp, state, record) = with_sample("acme/ext");
        state
            .set_dev_settings(&record.id, &dev(None, true))
            .unwrap();
        state
            .set_dev_settings(&record.id, &DevSettings::default())
            .unwrap();
        assert!(state.all_dev_settings().unwrap().is_empty());
    }

    #[test]
    fn only_installed_extensions() {
        let (_tmp, state) = temp_state();
        let id = ExtensionId::parse("acme/missing").unwrap();
        let err = state.set_dev_settings(&id, &dev(None, true)).unwrap_err();
        assert!(matches!(err, StateError::NotInstalled { .. }), "{err}");
    }

    #[test]
    fn an_update_keeps_them_and_removal_forgets_them() {
        let (_tmp, state, mut record) = with_sample("acme/ext");
        state
            .set_dev_settings(&record.id, &dev(Some("http://127.0.0.1:3000"), true))
            .unwrap();
        record.version = Some("2.0.0".into());
        state.put(&record).unwrap();
        assert!(state.dev_settings(&record.id).unwrap().debug);
        state.remove(&record.id).unwrap();
        assert!(state.all_dev_settings().unwrap().is_empty());
        state.put(&record).unwrap();
        assert_eq!(
            state.dev_settings(&record.id).unwrap(),
            DevSettings::default()
        );
    }

    #[test]
    fn a_damaged_row_names_the_extension() {
        let (_tmp, state, record) = with_sample("acme/ext");
        state
            .conn()
            .execute(
                "INSERT INTO dev_settings (id, ui_source, debug) VALUES ('acme/ext', 'ftp://x', 0)",
                [],
            )
            .unwrap();
        let err = state.dev_settings(&record.id).unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("acme/ext"), "{err}");
    }
}
