// One Engine API stats sample -> the numbers `docker stats` shows (pure).

export function computeStats(s) {
  const cpu = s.cpu_stats || {};
  const pre = s.precpu_stats || {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && sysDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;

  const m = s.memory_stats || {};
  const st = m.stats || {};
  const cache = st.inactive_file ?? st.total_inactive_file ?? 0;
  const memUsed = Math.max(0, (m.usage ?? 0) - (cache < (m.usage ?? 0) ? cache : 0));
  const memLimit = m.limit ?? 0;

  let rx = 0, tx = 0;
  for (const n of Object.values(s.networks || {})) { rx += n.rx_bytes || 0; tx += n.tx_bytes || 0; }

  let read = 0, write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive || []) {
    const op = String(e.op).toLowerCase();
    if (op === "read") read += e.value || 0;
    else if (op === "write") write += e.value || 0;
  }

  return {
    cpuPercent, online,
    memUsed, memLimit, memPercent: memLimit ? (memUsed / memLimit) * 100 : 0,
    rx, tx, read, write,
    pids: s.pids_stats?.current ?? null,
  };
}
