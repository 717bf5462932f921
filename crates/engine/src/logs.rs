//! A container's log, and the output chunks logs and exec share.
//!
//! Podman sends a line a container wrote in pieces as one frame per piece,
//! so its logs are joined into whole lines per stream again here
//! ([`crate::EngineFlavor::splits_log_lines`]).

use std::collections::VecDeque;
use std::pin::Pin;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::{Engine, EngineError};

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdStream {
    /// Standard output (also a TTY's combined output).
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of a container's or an exec's output: for logs one line (with its
/// newline), for exec whatever the process wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    /// Where it came from.
    pub stream: StdStream,
    /// The bytes.
    pub data: Bytes,
}

impl OutputChunk {
    /// The bytes as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}

/// One line of a container's log.
pub type LogLine = OutputChunk;

/// A stream of output chunks.
pub type OutputStream = Pin<Box<dyn Stream<Item = Result<OutputChunk, EngineError>> + Send>>;

pub(crate) fn chunk(out: LogOutput) -> Option<OutputChunk> {
    match out {
        LogOutput::StdOut { message } | LogOutput::Console { message } => Some(OutputChunk {
            stream: StdStream::Stdout,
            data: message,
        }),
        LogOutput::StdErr { message } => Some(OutputChunk {
            stream: StdStream::Stderr,
            data: message,
        }),
        LogOutput::StdIn { .. } => None,
    }
}

/// Joins log frames into whole lines, per stream: a line a container wrote
/// in pieces comes from Podman as one frame per piece. Each line keeps its
/// newline; what is left without one is given out when the stream ends (or
/// fails).
fn whole_lines(
    frames: impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static,
) -> impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static {
    struct Lines<S> {
        frames: Pin<Box<S>>,
        pending: [Vec<u8>; 2],
        ready: VecDeque<Result<OutputChunk, EngineError>>,
        done: bool,
    }
    impl<S> Lines<S> {
        fn flush(&mut self) {
            for (i, stream) in [StdStream::Stdout, StdStream::Stderr]
                .into_iter()
                .enumerate()
            {
                if !self.pending[i].is_empty() {
                    let data = Bytes::from(std::mem::take(&mut self.pending[i]));
                    self.ready.push_back(Ok(OutputChunk { stream, data }));
                }
            }
        }
    }
    let state = Lines {
        frames: Box::pin(frames),
        pending: [Vec::new(), Vec::new()],
        ready: VecDeque::new(),
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.ready.pop_front() {
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            match st.frames.next().await {
                Some(Ok(frame)) => {
                    let stream = frame.stream;
                    let buf = &mut st.pending[usize::from(stream == StdStream::Stderr)];
                    buf.extend_from_slice(&frame.data);
                    while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                        let data = Bytes::from(buf.drain(..=end).collect::<Vec<u8>>());
                        st.ready.push_back(Ok(OutputChunk { stream, data }));
                    }
                }
                Some(Err(e)) => {
                    st.flush();
                    st.ready.push_back(Err(e));
                }
                None => {
                    st.flush();
                    st.done = true;
                }
            }
        }
    })
}

/// The last `n` whole lines of `frames`, which answered a request for the
/// last `asked` pieces of lines: when all of them came, the first line may
/// be the end of a longer one and is left out.
fn last_lines(
    frames: impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static,
    n: usize,
    asked: usize,
) -> impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let counted = frames.inspect(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    futures_util::stream::once(async move {
        let mut lines: Vec<Result<OutputChunk, EngineError>> = whole_lines(counted).collect().await;
        let failed = lines.last().is_some_and(Result::is_err);
        let error = if failed { lines.pop() } else { None };
        if seen.load(std::sync::atomic::Ordering::Relaxed) >= asked && !lines.is_empty() {
            let _fragment = lines.remove(0);
        }
        let keep = lines.len().saturating_sub(n);
        lines.drain(..keep);
        lines.extend(error);
        futures_util::stream::iter(lines)
    })
    .flatten()
}

impl Engine {
    /// A container's log, stdout and stderr told apart: the last `tail` lines
    /// (all when `None`), then, with `follow`, new lines until the container stops.
    pub fn logs(
        &self,
        id: &str,
        follow: bool,
        tail: Option<usize>,
    ) -> impl Stream<Item = Result<LogLine, EngineError>> + Send + 'static {
        let split = self.version.flavor.splits_log_lines();
        // Podman's `tail` counts pieces of lines: ask for more, cut whole lines here.
        let asked = match tail {
            Some(n) if split && !follow => Some(n.saturating_mul(4).saturating_add(16)),
            other => other,
        };
        let tail_arg = asked.map_or_else(|| "all".to_owned(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(&tail_arg)
            .build();
        let engine = self.clone();
        let id = id.to_owned();
        let frames = self
            .docker
            .logs(&id, Some(options))
            .filter_map(move |item| {
                let out = match item {
                    Ok(out) => chunk(out).map(Ok),
                    Err(e) => Some(Err(engine.container_error(&id, "reading the logs of", e))),
                };
                std::future::ready(out)
            });
        let stream: OutputStream = match (split, tail, asked) {
            (false, ..) => Box::pin(frames),
            (true, Some(n), Some(asked)) if !follow => Box::pin(last_lines(frames, n, asked)),
            (true, ..) => Box::pin(whole_lines(frames)),
        };
        stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_their_stream() {
        let out = chunk(LogOutput::StdErr {
            message: Bytes::from_static(b"oops\n"),
        })
        .unwrap();
        assert_eq!(out.stream, StdStream::Stderr);
        assert_eq!(out.text(), "oops\n");
        let tty = chunk(LogOutput::Console {
            message: Bytes::from_static(b"x"),
        })
        .unwrap();
        assert_eq!(tty.stream, StdStream::Stdout);
        assert!(
            chunk(LogOutput::StdIn {
                message: Bytes::new()
            })
            .is_none()
        );
    }

    #[tokio::test]
    async fn pieces_of_a_line_are_joined_per_stream() {
        let frame = |stream, text: &'static str| {
            Ok(OutputChunk {
                stream,
                data: Bytes::from_static(text.as_bytes()),
            })
        };
        // As Podman 4.3 answers for `eprintln!("backend {v}: listening on {p}")`.
        let frames = futures_util::stream::iter(vec![
            frame(StdStream::Stderr, "backend "),
            frame(StdStream::Stdout, "out 1\nout "),
            frame(StdStream::Stderr, "0.1.0: listening on /run/x.sock\n"),
            frame(StdStream::Stdout, "2\n"),
            frame(StdStream::Stderr, "no newline at the end"),
        ]);
        let lines: Vec<(StdStream, String)> = whole_lines(frames)
            .map(|c| {
                let c = c.expect("chunk");
                (c.stream, c.text().into_owned())
            })
            .collect()
            .await;
        assert_eq!(
            lines,
            vec![
                (StdStream::Stdout, "out 1\n".to_owned()),
                (
                    StdStream::Stderr,
                    "backend 0.1.0: listening on /run/x.sock\n".to_owned()
                ),
                (StdStream::Stdout, "out 2\n".to_owned()),
                (StdStream::Stderr, "no newline at the end".to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn a_tail_keeps_whole_lines() {
        let frames = |texts: &[&'static str]| {
            futures_util::stream::iter(
                texts
                    .iter()
                    .map(|t| {
                        Ok(OutputChunk {
                            stream: StdStream::Stderr,
                            data: Bytes::from_static(t.as_bytes()),
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let text = |lines: Vec<Result<OutputChunk, EngineError>>| -> Vec<String> {
            lines
                .into_iter()
                .map(|l| l.expect("line").text().into_owned())
                .collect()
        };
        // All 4 pieces asked for came: the first may be the end of a line.
        let got = last_lines(frames(&["end\n", "a ", "b\n", "c\n"]), 5, 4)
            .collect()
            .await;
        assert_eq!(text(got), ["a b\n", "c\n"]);
        // Fewer came: that is the whole log.
        let got = last_lines(frames(&["first\n", "a ", "b\n", "c\n"]), 2, 10)
            .collect()
            .await;
        assert_eq!(text(got), ["a b\n", "c\n"]);
        let got = last_lines(frames(&["first\n"]), 0, 10)
            .collect::<Vec<_>>()
            .await;
        assert!(got.is_empty());
    }
}
