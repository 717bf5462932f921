// The compatibility lab's own extension page (docs/compatibility.md): what the published set
// does not cover. The lab reads the data-* attributes; a person reads the page.
//
// - DockerMuiV6ThemeProvider around the page and DockerMuiV5ThemeProvider (the target of the
//   deprecated DockerMuiThemeProvider) around one section, each showing
//   theme.palette.docker.grey[100], which only the host's theme globals define;
// - a chart of `docker stats` JSON lines, streamed with
//   docker.cli.exec('stats', ['--format', '{{json .}}'], {stream}) (arguments passed as they are);
// - the same command collected, with --no-stream and the quoted '"{{json .}}"' that collected
//   execs take (quote removal);
// - a button that fails on purpose, so the lab can show that it sees failures.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import CssBaseline from "@mui/material/CssBaseline";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useTheme } from "@mui/material/styles";
import {
  DockerMuiThemeProvider,
  DockerMuiV5ThemeProvider,
  DockerMuiV6ThemeProvider,
} from "@docker/docker-mui-theme";
import { createDockerDesktopClient } from "@docker/extension-api-client";

const dd = createDockerDesktopClient();

// docker stats clears the screen before each round, terminal or not.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const KEEP = 30;

function ThemeSample({ id, provider }) {
  const theme = useTheme();
  const grey = theme.palette.docker.grey[100];
  return (
    <Box
      id={id}
      data-mode={theme.palette.mode}
      data-grey100={grey}
      data-background={theme.palette.background.default}
      sx={{ bgcolor: "background.default", color: "text.primary", border: 1, borderColor: "divider", borderRadius: 1, p: 2, mb: 2 }}
    >
      <Typography variant="h3" gutterBottom>
        {provider}
      </Typography>
      <Stack direction="row" spacing={2} alignItems="center">
        <Box sx={{ width: 48, height: 24, bgcolor: grey, border: 1, borderColor: "divider" }} />
        <Typography>
          palette.docker.grey[100] is <code>{grey}</code> in {theme.palette.mode} mode
        </Typography>
      </Stack>
    </Box>
  );
}

function Sparkline({ values }) {
  const w = 240;
  const h = 40;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (KEEP - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / max) * h).toFixed(1)}`).join(" ");
  return (
    <svg width={w} height={h} role="img" aria-label="CPU %">
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="2" />
    </svg>
  );
}

function StreamedStats() {
  const [view, setView] = useState({ state: "pending", lines: 0, bad: 0, error: "", series: {} });
  useEffect(() => {
    const series = {};
    let lines = 0;
    let bad = 0;
    const proc = dd.docker.cli.exec("stats", ["--format", "{{json .}}"], {
      stream: {
        splitOutputLines: true,
        onOutput(data) {
          if (typeof data.stderr === "string" && data.stderr.trim()) {
            setView((v) => ({ ...v, error: v.error + data.stderr }));
            return;
          }
          const line = String(data.stdout ?? "").replace(ANSI, "").trim();
          if (!line) return;
          let row;
          try {
            row = JSON.parse(line);
          } catch {
            bad += 1;
            setView((v) => ({ ...v, bad }));
            return;
          }
          lines += 1;
          const cpu = Number.parseFloat(row.CPUPerc) || 0;
          series[row.Name] = [...(series[row.Name] || []), cpu].slice(-KEEP);
          setView((v) => ({ ...v, state: "streaming", lines, series: { ...series } }));
        },
        onError(e) {
          setView((v) => ({ ...v, state: "error", error: v.error + String((e && e.message) || e) }));
        },
        onClose(code) {
          setView((v) => ({ ...v, state: code === 0 ? "closed" : "error", error: v.error || `docker stats exited with ${code}` }));
        },
      },
    });
    return () => proc.close();
  }, []);
  return (
    <Box id="stream" data-state={view.state} data-lines={view.lines} data-bad={view.bad} sx={{ mb: 2 }}>
      <Typography variant="h3" gutterBottom>
        docker stats, streamed
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {view.lines} JSON lines{view.bad ? `, ${view.bad} not JSON` : ""} ({view.state})
      </Typography>
      {view.error && (
        <Typography id="stream-error" color="error">
          {view.error}
        </Typography>
      )}
      {Object.entries(view.series).map(([name, values]) => (
        <Stack key={name} direction="row" spacing={2} alignItems="center" className="series" data-name={name}>
          <Typography sx={{ width: 320, overflow: "hidden", textOverflow: "ellipsis" }}>{name}</Typography>
          <Sparkline values={values} />
          <Typography>{values[values.length - 1].toFixed(2)} %</Typography>
        </Stack>
      ))}
    </Box>
  );
}

function CollectedStats() {
  const [view, setView] = useState({ state: "pending", names: [], error: "" });
  useEffect(() => {
    dd.docker.cli.exec("stats", ["--no-stream", "--format", '"{{json .}}"']).then(
      (r) => setView({ state: "ok", names: r.parseJsonLines().map((row) => row.Name), error: "" }),
      (e) => setView({ state: "error", names: [], error: String((e && (e.stderr || e.message)) || e) }),
    );
  }, []);
  return (
    <Box id="once" data-state={view.state} data-count={view.names.length}>
      <Typography variant="h3" gutterBottom>
        docker stats --no-stream, collected
      </Typography>
      <Typography variant="body2">
        {view.state === "ok" ? `${view.names.length} containers: ${view.names.join(", ")}` : view.state}
      </Typography>
      {view.error && <Typography color="error">{view.error}</Typography>}
    </Box>
  );
}

// "Fail on purpose": an uncaught exception, an unhandled rejection and a call dockhand refuses
// (a host binary the extension does not have), each marked "lab: deliberate". The lab clicks it
// to prove that it sees such failures in the bridge call log (`dockhand dev debug`).
function FailOnPurpose() {
  const [state, setState] = useState("idle");
  const fail = () => {
    setState("pending");
    setTimeout(() => {
      throw new Error("lab: deliberate uncaught exception");
    }, 0);
    Promise.reject(new Error("lab: deliberate unhandled rejection"));
    dd.extension.host.cli.exec("lab-deliberately-unknown-binary", []).then(
      () => setState("resolved"),
      () => setState("rejected"),
    );
  };
  return (
    <Box sx={{ mt: 3 }}>
      <Button id="fail-on-purpose" variant="outlined" color="error" onClick={fail}>
        Fail on purpose
      </Button>
      <Typography id="failed" component="span" data-state={state} sx={{ ml: 2 }}>
        {state}
      </Typography>
    </Box>
  );
}

function App() {
  return (
    <DockerMuiV6ThemeProvider>
      <CssBaseline />
      <Box sx={{ p: 3 }}>
        <Typography variant="h2" gutterBottom>
          Lab theme and stats
        </Typography>
        <ThemeSample id="v6" provider="DockerMuiV6ThemeProvider" />
        <DockerMuiV5ThemeProvider>
          <ThemeSample id="v5" provider="DockerMuiV5ThemeProvider" />
        </DockerMuiV5ThemeProvider>
        <Typography id="deprecated-alias" variant="caption" component="p" sx={{ mb: 2 }}>
          DockerMuiThemeProvider is DockerMuiV5ThemeProvider: {String(DockerMuiThemeProvider === DockerMuiV5ThemeProvider)}
        </Typography>
        <StreamedStats />
        <CollectedStats />
        <FailOnPurpose />
      </Box>
    </DockerMuiV6ThemeProvider>
  );
}

createRoot(document.getElementById("root")).render(<App />);
