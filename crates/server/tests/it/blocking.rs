//! Blocking work off the server's thread: the dashboard keeps answering while
//! an uninstall waits on SQLite.
//!
//! The test runs the router on a current-thread runtime, as `dockhand serve`
//! does. Another connection holds `dockhand.db`'s write lock, so the
//! uninstall's first write waits in SQLite's busy handler, a blocking wait:
//! on the server's thread it would stall every other request until the lock
//! is released.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};

use crate::support::fixture;

/// How long the other connection holds the write lock.
const HELD: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn the_dashboard_answers_while_an_uninstall_runs() {
    let f = Arc::new(fixture());
    let record = f.add_extension("acme/slow-rm", &[("index.html", "<html>")]);
    let session = f.login().await;

    // Another process's write transaction, held for `HELD`.
    let db = f.home().join("dockhand.db");
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).expect("open dockhand.db");
        conn.execute_batch("BEGIN IMMEDIATE")
            .expect("take the write lock");
        locked_tx.send(()).expect("tell the test");
        std::thread::sleep(HELD);
        conn.execute_batch("COMMIT")
            .expect("release the write lock");
    });
    locked_rx.recv().expect("the lock is held");
    let locked_at = Instant::now();

    let path = format!(
        "/api/extensions/{}",
        dockhand_server::api::encode_id(&record.id)
    );
    let remove = {
        let (f, session) = (Arc::clone(&f), session.clone());
        tokio::spawn(async move { f.dashboard_call(Method::DELETE, &path, &session).await })
    };
    // Let the uninstall start and reach its first write.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let asked = Instant::now();
    let info = f.dashboard_get("/api/info", &session).await;
    let took = asked.elapsed();
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    assert!(
        !remove.is_finished(),
        "the uninstall must still be waiting for the write lock"
    );
    assert!(
        locked_at.elapsed() < HELD,
        "the answer came only after the lock was released ({took:?}): the uninstall blocked the server's thread"
    );
    assert!(took < Duration::from_millis(700), "{took:?}");

    let removed = remove.await.expect("the uninstall task");
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert_eq!(removed.json()["removed"], true);
    holder.join().expect("the lock holder");
    assert!(!record.dir.exists(), "the files are gone");
}
