/**
 * The demo's page: it opens WebTransport back to the server that served it (the certificate's
 * SHA-256 embedded, so a self-signed certificate works without flags), echoes text on a
 * bidirectional stream, pings with datagrams showing the round-trip time live, and chats with
 * every other tab connected to the same server.
 */

export function demoPage(options: { wtUrl: string; certificateSha256Base64: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>purequic: HTTP/3 + WebTransport demo</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #1d2330; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  .sub { color: #5b6477; margin-top: 0; }
  section { border: 1px solid #d7dce6; border-radius: 8px; padding: .8rem 1rem; margin: 1rem 0; }
  h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  #status { font-weight: 600; }
  #status.ok { color: #16794c; } #status.bad { color: #b42318; }
  input { font: inherit; padding: .3rem .5rem; width: 60%; }
  button { font: inherit; padding: .3rem .8rem; }
  #chat { height: 8rem; overflow-y: auto; background: #f6f8fb; padding: .4rem .6rem; border-radius: 6px; }
  code { background: #eef1f6; padding: 0 .25rem; border-radius: 4px; }
</style>
</head>
<body>
<h1>purequic</h1>
<p class="sub">QUIC, HTTP/3 and WebTransport in TypeScript for Node.js, no native addon.</p>
<section><h2>WebTransport session</h2>
  <div>Status: <span id="status">connecting…</span></div>
  <div>URL: <code id="url"></code></div>
</section>
<section><h2>Echo (bidirectional stream)</h2>
  <input id="echoText" value="hello over WebTransport"> <button id="echoButton">Send</button>
  <div>Reply: <span id="echoReply">-</span></div>
</section>
<section><h2>Datagram ping</h2>
  <div>RTT: <span id="rtt">-</span> (<span id="pings">0</span> pongs, last payload <span id="dgSize">-</span> bytes; max datagram <span id="maxDg">-</span> bytes)</div>
</section>
<section><h2>Chat across tabs</h2>
  <div id="chat"></div>
  <input id="chatText" placeholder="say something"> <button id="chatButton">Send</button>
</section>
<script type="module">
const $ = (id) => document.getElementById(id);
const enc = new TextEncoder(), dec = new TextDecoder();
const url = ${JSON.stringify(options.wtUrl)};
const hash = Uint8Array.from(atob(${JSON.stringify(options.certificateSha256Base64)}), (c) => c.charCodeAt(0));
$('url').textContent = url;
window.demo = { connected: false, echo: '', pongs: 0, rttMs: undefined, chat: [] };
async function readText(readable) {
  let s = '';
  for (const reader = readable.getReader();;) {
    const { value, done } = await reader.read();
    if (done) return s;
    s += dec.decode(value, { stream: true });
  }
}
try {
  const wt = new WebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
  await wt.ready;
  window.demo.connected = true;
  $('status').textContent = 'connected';
  $('status').className = 'ok';
  $('maxDg').textContent = wt.datagrams.maxDatagramSize ?? '?';
  wt.closed.then((c) => { $('status').textContent = 'closed: ' + (c.reason || c.closeCode); $('status').className = 'bad'; },
                 (e) => { $('status').textContent = 'failed: ' + e.message; $('status').className = 'bad'; });

  async function echo() {
    const s = await wt.createBidirectionalStream();
    const w = s.writable.getWriter();
    await w.write(enc.encode($('echoText').value));
    await w.close();
    const reply = await readText(s.readable);
    $('echoReply').textContent = reply;
    window.demo.echo = reply;
  }
  $('echoButton').onclick = () => echo();
  await echo();

  // Datagram ping: 8 bytes of send time out, the server echoes them back.
  const dw = wt.datagrams.writable.getWriter();
  (async () => {
    for (const r = wt.datagrams.readable.getReader();;) {
      const { value, done } = await r.read();
      if (done) return;
      const sent = new DataView(value.buffer, value.byteOffset, 8).getFloat64(0);
      const rtt = performance.now() - sent;
      window.demo.pongs++;
      window.demo.rttMs = rtt;
      $('rtt').textContent = rtt.toFixed(2) + ' ms';
      $('pings').textContent = window.demo.pongs;
      $('dgSize').textContent = value.length;
    }
  })();
  const ping = () => {
    const d = new Uint8Array(64);
    new DataView(d.buffer).setFloat64(0, performance.now());
    dw.write(d).catch(() => {});
  };
  ping();
  setInterval(ping, 1000);

  // Chat: each message goes up a unidirectional stream; the server sends every message to every
  // tab on unidirectional streams of its own.
  (async () => {
    for (const r = wt.incomingUnidirectionalStreams.getReader();;) {
      const { value, done } = await r.read();
      if (done) return;
      readText(value).then((line) => {
        window.demo.chat.push(line);
        const p = document.createElement('div');
        p.textContent = line;
        $('chat').append(p);
        $('chat').scrollTop = 1e9;
      });
    }
  })();
  async function say() {
    const text = $('chatText').value.trim();
    if (!text) return;
    $('chatText').value = '';
    const s = await wt.createUnidirectionalStream();
    const w = s.getWriter();
    await w.write(enc.encode(text));
    await w.close();
  }
  $('chatButton').onclick = () => say();
  $('chatText').onkeydown = (e) => { if (e.key === 'Enter') say(); };
} catch (e) {
  $('status').textContent = 'failed: ' + (e && e.message);
  $('status').className = 'bad';
  window.demo.error = String(e && e.message);
}
</script>
</body>
</html>
`;
}
