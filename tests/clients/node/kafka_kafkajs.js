// kafkajs against Brook's Kafka listener (tests/it/kafka_clients.rs runs this with
// NODE_PATH=<.ci/install-deps's node dir>/node_modules and KAFKA_BOOTSTRAP set).
//
// The admin client creates two topics; a producer sends keyed records with headers, one by one
// uncompressed and then in one gzip-compressed batch, and a consumer group reads them back
// (keys, values, headers, partitions and offsets as acknowledged); two consumers in one group
// split a four-partition topic, the one left behind is given all four when the other
// disconnects, and the offsets it commits are what admin.fetchOffsets returns. Any failure exits
// non-zero saying what differed; success prints "ok". KAFKAJS_LOG=debug shows the protocol.
'use strict';

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const BOOT = process.env.KAFKA_BOOTSTRAP;
const RECORDS = 'js_records';
const GROUP_TOPIC = 'js_grp';
const GROUP = 'js_g1';
const LIMIT_MS = 60000;
let step = 'starting';
// What the consumers' CRASH events said (kafkajs retries and restarts a consumer on its own, so
// a failing request shows only here and in its debug log).
const crashes = [];
const crashed = () =>
  crashes.length
    ? `; consumer errors: ${[...new Set(crashes)].join('; ')}`
    : '; no consumer error was reported (KAFKAJS_LOG=debug shows the requests and any connection the server closed)';

function watch(consumer) {
  consumer.on(consumer.events.CRASH, (e) => crashes.push(String(e.payload.error && e.payload.error.message)));
  return consumer;
}

function fail(message) {
  console.error('FAILED: ' + message);
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(typeof message === 'function' ? message() : message);
}

// Equal as JSON, objects' keys in any order.
const canonical = (v) =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]))
    : Array.isArray(v) ? v.map(canonical) : v;
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

const kafka = new Kafka({
  clientId: 'brook-kafkajs-test',
  brokers: [BOOT],
  logLevel: process.env.KAFKAJS_LOG === 'debug' ? logLevel.DEBUG : logLevel.WARN,
  retry: { retries: 3 },
});

function producer() {
  // TODO(idempotence): Brook does not serve InitProducerId yet; once it does, switch this to
  // idempotent: true (kafkajs then sends InitProducerId and sequence numbers, acks=-1) and
  // check that its records are written once.
  return kafka.producer({
    idempotent: false,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

// Polls `done` until it holds; fails naming `what` and the state `describe` gives otherwise.
async function waitFor(done, what, describe, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  fail(`${what}: ${describe()}${crashed()}`);
}

async function createTopics(admin) {
  const created = await admin.createTopics({
    topics: [
      { topic: RECORDS, numPartitions: 3, replicationFactor: 1 },
      { topic: GROUP_TOPIC, numPartitions: 4, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  check(created === true, `createTopics answered ${created}, not true`);
  const again = await admin.createTopics({
    topics: [{ topic: RECORDS, numPartitions: 3, replicationFactor: 1 }],
  });
  check(again === false, `creating ${RECORDS} twice answered ${again}, not false (exists)`);
  const { topics } = await admin.fetchTopicMetadata({ topics: [RECORDS, GROUP_TOPIC] });
  const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
  check(same(partitions, { [RECORDS]: 3, [GROUP_TOPIC]: 4 }), `partitions ${JSON.stringify(partitions)}`);
}

// 30 records sent one by one, then 30 more with the same keys in one gzip batch. Returns the
// records by "partition/offset" as acknowledged: each plain one's own, each gzip one's from its
// partition's base offset and its place among that partition's records in the batch.
async function produceKeyed() {
  const delivered = new Map();
  const partitionOf = {};
  const record = (n, codec) => ({
    key: `k${n % 7}`,
    value: `v${n}`,
    headers: { codec, n: String(n) },
  });
  const p = producer();
  await p.connect();
  for (let n = 0; n < 30; n++) {
    const message = record(n, 'none');
    const [meta] = await p.send({ topic: RECORDS, acks: -1, messages: [message] });
    check(meta.errorCode === 0, `send ${n}: ${JSON.stringify(meta)}`);
    const at = `${meta.partition}/${meta.baseOffset}`;
    check(!delivered.has(at), `two records acknowledged at ${at}`);
    delivered.set(at, message);
    check((partitionOf[message.key] ??= meta.partition) === meta.partition, `key ${message.key} in two partitions`);
  }
  const batch = [];
  for (let n = 30; n < 60; n++) batch.push(record(n, 'gzip'));
  const metas = await p.send({
    topic: RECORDS,
    acks: -1,
    compression: CompressionTypes.GZIP,
    messages: batch,
  });
  await p.disconnect();
  const base = Object.fromEntries(metas.map((m) => [m.partition, Number(m.baseOffset)]));
  const next = {};
  for (const message of batch) {
    const partition = partitionOf[message.key];
    check(partition in base, () => `no acknowledgement for partition ${partition}: ${JSON.stringify(metas)}`);
    next[partition] ??= base[partition];
    delivered.set(`${partition}/${next[partition]}`, message);
    next[partition] += 1;
  }
  check(delivered.size === 60, `${delivered.size} of 60 records at distinct offsets`);
  return delivered;
}

function headersOf(message) {
  return Object.fromEntries(Object.entries(message.headers || {}).map(([k, v]) => [k, v.toString()]));
}

async function readBack(delivered) {
  const read = new Map();
  const consumer = watch(kafka.consumer({ groupId: 'js_reader', maxWaitTimeInMs: 500 }));
  await consumer.connect();
  await consumer.subscribe({ topic: RECORDS, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      read.set(`${partition}/${message.offset}`, {
        key: message.key.toString(),
        value: message.value.toString(),
        headers: headersOf(message),
      });
    },
  });
  await waitFor(
    () => read.size >= delivered.size,
    'reading the produced records back',
    () => `read ${read.size} of ${delivered.size}`,
  );
  await consumer.disconnect();
  check(read.size === delivered.size, `read ${read.size} records, ${delivered.size} were produced`);
  for (const [at, message] of delivered) {
    check(same(read.get(at), message), () => `at partition/offset ${at}: read ${JSON.stringify(read.get(at))}, sent ${JSON.stringify(message)}`);
  }
}

class Member {
  constructor(name) {
    this.name = name;
    this.assigned = [];
    this.values = [];
    this.next = {}; // partition -> the offset after the last record read
    this.consumer = watch(kafka.consumer({
      groupId: GROUP,
      sessionTimeout: 6000,
      heartbeatInterval: 300,
      rebalanceTimeout: 10000,
      maxWaitTimeInMs: 300,
    }));
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.assigned = [...(e.payload.memberAssignment[GROUP_TOPIC] || [])].sort();
    });
  }

  async start() {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: GROUP_TOPIC, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        this.values.push(message.value.toString());
        this.next[partition] = Number(message.offset) + 1;
      },
    });
  }

  async commit() {
    const offsets = Object.entries(this.next).filter(([p]) => this.assigned.includes(Number(p)));
    await this.consumer.commitOffsets(
      offsets.map(([partition, offset]) => ({ topic: GROUP_TOPIC, partition: Number(partition), offset: String(offset) })),
    );
  }

  toString() {
    return `${this.name} has [${this.assigned}] and ${this.values.length} values`;
  }
}

// Sends records v<first>.. (keyed k<n>) in one call.
async function produceGroupRecords(first, count) {
  const p = producer();
  await p.connect();
  const messages = [];
  for (let n = first; n < first + count; n++) messages.push({ key: `k${n}`, value: `v${n}` });
  const metas = await p.send({ topic: GROUP_TOPIC, acks: -1, messages });
  await p.disconnect();
  check(metas.every((m) => m.errorCode === 0), () => `send: ${JSON.stringify(metas)}`);
}

const range = (a, b) => Array.from({ length: b - a }, (_, i) => `v${a + i}`);

async function group(admin) {
  const a = new Member('a');
  const b = new Member('b');
  await a.start();
  await b.start();
  step = 'two members splitting four partitions';
  await waitFor(() => a.assigned.length === 2 && b.assigned.length === 2, step, () => `${a}, ${b}`);
  check(a.assigned.every((p) => !b.assigned.includes(p)), `both were given a partition: ${a}, ${b}`);

  step = 'the group reading 400 records';
  await produceGroupRecords(0, 400);
  await waitFor(() => a.values.length + b.values.length >= 400, step, () => `${a}, ${b}`);
  check(same([...a.values, ...b.values].sort(), range(0, 400).sort()), 'records lost or read twice');
  check(a.values.length > 0 && b.values.length > 0, `${a}, ${b}`);
  await a.commit();
  await b.commit();

  step = 'b disconnecting, a given all four partitions';
  await b.consumer.disconnect();
  await waitFor(() => a.assigned.length === 4, step, () => `${a}`);

  step = 'a reading the 100 new records';
  const before = a.values.length;
  await produceGroupRecords(400, 100);
  await waitFor(() => a.values.length >= before + 100, step, () => `${a}`);
  check(same(a.values.slice(before).sort(), range(400, 500).sort()), () => `after the rebalance a read ${a.values.length - before} records, not v400 to v499 once each`);
  await a.commit();
  const read = { ...b.next, ...a.next };
  step = 'admin.fetchTopicOffsets';
  const ends = Object.fromEntries((await admin.fetchTopicOffsets(GROUP_TOPIC)).map((p) => [p.partition, Number(p.high)]));
  check(same(read, ends), `the group read up to ${JSON.stringify(read)}, the end offsets are ${JSON.stringify(ends)}`);
  check(Object.values(ends).reduce((s, o) => s + o, 0) === 500, `end offsets ${JSON.stringify(ends)} do not add up to 500`);

  step = 'admin.fetchOffsets';
  const [fetched] = await admin.fetchOffsets({ groupId: GROUP, topics: [GROUP_TOPIC] });
  const committed = Object.fromEntries(fetched.partitions.map((p) => [p.partition, Number(p.offset)]));
  check(same(committed, ends), `admin.fetchOffsets: ${JSON.stringify(committed)}, committed ${JSON.stringify(ends)}`);
  await a.consumer.disconnect();
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  step = 'creating topics';
  await createTopics(admin);
  step = 'producing keyed records';
  const delivered = await produceKeyed();
  step = 'reading them back';
  await readBack(delivered);
  await group(admin);
  await admin.disconnect();
}

setTimeout(() => fail(`timed out after ${LIMIT_MS / 1000} s while ${step}${crashed()}`), LIMIT_MS);
main().then(
  () => {
    console.log('ok');
    process.exit(0);
  },
  (e) => fail(`${step}: ${e.stack || e}`),
);
