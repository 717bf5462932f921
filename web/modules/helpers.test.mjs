// Tests of the pure helpers: stats math, formatting, terminal keys and screen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { computeStats } from "./stats.js";
import { bytes, ago, shortId, stripAnsi, ports } from "./format.js";

test("computeStats like docker stats", () => {
  const r = computeStats({
    cpu_stats: { cpu_usage: { total_usage: 3_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 4 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
    memory_stats: { usage: 150, limit: 1000, stats: { inactive_file: 50 } },
    networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: "Read", value: 5 }, { op: "write", value: 7 }, { op: "Total", value: 12 }] },
    pids_stats: { current: 3 },
  });
  assert.equal(r.cpuPercent, 80);
  assert.deepEqual([r.memUsed, r.memLimit, r.memPercent], [100, 1000, 10]);
  assert.deepEqual([r.rx, r.tx, r.read, r.write, r.pids], [11, 22, 5, 7, 3]);
  const empty = computeStats({});
  assert.deepEqual([empty.cpuPercent, empty.memPercent, empty.pids], [0, 0, null]);
});

test("format helpers", () => {
  assert.equal(bytes(999), "999 B");
  assert.equal(bytes(1_500_000), "1.50 MB");
  assert.equal(bytes(123_456_789), "123 MB");
  assert.equal(ago(1000, 1000_000 + 65_000), "1 minute ago");
  assert.equal(ago("2024-01-01T00:00:00Z", Date.parse("2024-01-03T00:00:00Z")), "2 days ago");
  assert.equal(shortId("sha256:0123456789abcdef"), "0123456789ab");
  assert.equal(stripAnsi("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x07"), "red ok");
  assert.equal(ports([{ PrivatePort: 80, PublicPort: 8080, Type: "tcp", IP: "0.0.0.0" }, { PrivatePort: 80, PublicPort: 8080, Type: "tcp", IP: "::" }, { PrivatePort: 53, Type: "udp" }]), "8080->80/tcp, 53/udp");
});

import { keyBytes, createScreen } from "./terminal.js";

test("terminal keys and screen", () => {
  const k = (key, mods = {}) => keyBytes({ key, ...mods });
  assert.equal(k("a"), "a");
  assert.equal(k("Enter"), "\r");
  assert.equal(k("c", { ctrlKey: true }), "\x03");
  assert.equal(k("ArrowUp"), "\x1b[A");
  assert.equal(k("Tab", { shiftKey: true }), null);
  assert.equal(k("x", { altKey: true }), "\x1bx");
  assert.equal(k("Shift"), null);
  const s = createScreen();
  s.write("\x1b[1;32muser@box\x1b[0m:/# ls\r\nbin  etc\r\n# ab\b \bc");
  assert.equal(s.text(), "user@box:/# ls\nbin  etc\n# ac");
  s.write("\rxy");
  assert.equal(s.lines.at(-1), "xyac");
  assert.deepEqual(s.parts().slice(1), ["a", "c"]);
  s.write("ac!");
  assert.deepEqual(s.parts().slice(1), [" ", ""]);
});
