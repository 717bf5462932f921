//! Stopping the server: graceful shutdown kills the processes the bridge
//! started and waits for them (`Server::run`), over a real socket.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dockhand_host::state::ExtensionRecord;
use dockhand_server::{ServeOptions, Server};
use dockhand_spec::ExtensionId;
use dockhand_testkit::records::record;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::bridge_support::{alive, read_pid, write_executable};
use crate::support::manager;

#[tokio::test]
async fn graceful_shutdown_kills_running_bridge_processes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let manager = manager(tmp.path(), None);
    let id = ExtensionId::parse("acme/long-runner").expect("id");
    let dir = tmp
        .path()
        .join("home/extensions")
        .join(id.fs_name())
        .join("v1");
    fs_err::create_dir_all(dir.join("host")).expect("host dir");
    // A child that outlives its shell unless the whole group is killed.
    write_executable(
        &dir.join("host/sleeper"),
        "#!/bin/sh\nsleep 30 &\necho $! > \"$1\"\nwait\n",
    );
    manager
        .state
        .put(&ExtensionRecord {
            host_binaries: vec!["sleeper".into()],
            ui_title: None,
            metadata: serde_json::json!({}),
            ..record(&id, "Long runner", dir)
        })
        .expect("record");
    let server = Server::bind(
        Arc::new(manager),
        &ServeOptions {
            port: 0,
            user_home: tmp.path().to_path_buf(),
            ..ServeOptions::default()
        },
    )
    .await
    .expect("bind");
    let addr = server.local_addr();
    // The extension's session, as `/.dockhand/enter` would make it.
    let auth = server.state().auth();
    let ticket = auth.issue_ticket(&id).expect("ticket");
    let secret = auth
        .redeem_ticket(&ticket, &id)
        .expect("redeem")
        .expect("a valid ticket");
    let host = format!(
        "{}.localhost:{}",
        dockhand_server::slug::slug(&id),
        addr.port()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    let pidfile: PathBuf = tmp.path().join("sleep.pid");
    let body =
        serde_json::json!({"cmd": "sleeper", "args": [pidfile.display().to_string()]}).to_string();
    let request = format!(
        "POST /.dockhand/api/host/exec HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
         Cookie: dockhand_ext={secret}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let pid = read_pid(&pidfile).await;
    assert!(alive(pid), "sleep {pid} runs");

    stop.send(()).expect("stop the server");
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("the exec answers within 10 s")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"killed\":true"), "{answer}");
    let stopped = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the server stops within 10 s")
        .expect("the server task")
        .expect("a clean stop");
    assert_eq!(stopped.processes_left, 0, "{stopped:?}");
    assert!(!alive(pid), "sleep {pid} survived the shutdown");
}
