// A scripted mqtt.js client for the broker tests (the same library the browser client uses).
//
// argv[2]: JSON {url, clientId, protocolVersion, clean, will}. Commands arrive on stdin,
// one JSON object per line: {op: "subscribe"|"publish"|"end", id, ...}. Everything that
// happens is written to stdout, one JSON object per line: {event, ...}.
"use strict";

const readline = require("node:readline");
const mqtt = require("mqtt");

const config = JSON.parse(process.argv[2]);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const client = mqtt.connect(config.url, {
  clientId: config.clientId,
  protocolVersion: config.protocolVersion,
  clean: config.clean ?? true,
  reconnectPeriod: 0,
  connectTimeout: 10_000,
  keepalive: 30,
  will: config.will,
});

client.on("connect", (connack) => emit({ event: "connect", sessionPresent: connack.sessionPresent }));
client.on("error", (err) => emit({ event: "error", code: err.code ?? null, message: err.message }));
client.on("disconnect", (packet) => emit({ event: "disconnect", reasonCode: packet.reasonCode }));
client.on("close", () => emit({ event: "close" }));
client.on("message", (topic, payload, packet) =>
  emit({
    event: "message",
    topic,
    payload: payload.toString("utf8"),
    qos: packet.qos,
    retain: packet.retain,
    properties: packet.properties ?? null,
  }),
);

const commands = {
  subscribe(cmd) {
    client.subscribe(cmd.topic, { qos: cmd.qos ?? 1 }, (err, granted) =>
      emit({ event: "suback", id: cmd.id, error: err?.message ?? null, granted }),
    );
  },
  publish(cmd) {
    const options = { qos: cmd.qos ?? 1, retain: cmd.retain ?? false, properties: cmd.properties };
    client.publish(cmd.topic, cmd.payload, options, (err, packet) =>
      emit({
        event: "puback",
        id: cmd.id,
        error: err?.message ?? null,
        reasonCode: err?.code ?? packet?.reasonCode ?? 0,
      }),
    );
  },
  end(cmd) {
    client.end(cmd.force ?? false, () => emit({ event: "ended", id: cmd.id }));
  },
};

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  commands[cmd.op](cmd);
});
