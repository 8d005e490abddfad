// kafkajs against Brook's Kafka listener (tests/it/kafka_clients.rs runs this with
// NODE_PATH=<.ci/install-deps's node dir>/node_modules and KAFKA_BOOTSTRAP set).
//
// The admin client creates four topics; idempotent producers (InitProducerId, sequence numbers,
// acks=-1) send keyed records with headers, one by one uncompressed and then in one
// gzip-compressed batch, and a consumer group reads them back (keys, values, headers,
// partitions and offsets as acknowledged, each record once, every batch carrying a producer
// id); two consumers in one group split a four-partition topic, the one left behind is given
// all four when the other disconnects, and the offsets it commits are what admin.fetchOffsets
// returns. Then a consume-transform-produce loop: a read-committed consumer in a group reads an
// input topic, and a transactional producer writes each chunk upper-cased and commits the
// chunk's input offsets in the same transaction (tx.sendOffsets); one transaction is aborted
// after its records were acknowledged by the broker, and its input read again from the
// committed offsets. A readUncommitted: false consumer sees every output exactly once, a
// readUncommitted: true one the aborted records too, and the group's committed offsets are the
// input's end offsets. Any failure exits non-zero with "FAILED: <step>: <what differed>";
// success prints "ok". KAFKAJS_LOG=debug shows the protocol (the warning that limiting retries
// may invalidate EoS is expected: retries stay at 3 so that a failing request fails the step).
'use strict';

const { Kafka, CompressionTypes, Partitioners, logLevel } = require('kafkajs');

const BOOT = process.env.KAFKA_BOOTSTRAP;
const RECORDS = 'js_records';
const GROUP_TOPIC = 'js_grp';
const GROUP = 'js_g1';
const TXN_IN = 'js_txn_in';
const TXN_OUT = 'js_txn_out';
const TXN_GROUP = 'js_txn_app';
const TXN_ID = 'js-app-1';
const INPUTS = 100;
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
  console.error(`FAILED: ${step}: ${message}`);
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
  // Idempotent: kafkajs sends InitProducerId on connect, then sequence numbers with acks=-1;
  // the callers check that every record is written once.
  return kafka.producer({
    idempotent: true,
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
  fail(`${what === step ? '' : what + ': '}${describe()}${crashed()}`);
}

async function createTopics(admin) {
  const created = await admin.createTopics({
    topics: [
      { topic: RECORDS, numPartitions: 3, replicationFactor: 1 },
      { topic: GROUP_TOPIC, numPartitions: 4, replicationFactor: 1 },
      { topic: TXN_IN, numPartitions: 2, replicationFactor: 1 },
      { topic: TXN_OUT, numPartitions: 2, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  check(created === true, `createTopics answered ${created}, not true`);
  const again = await admin.createTopics({
    topics: [{ topic: RECORDS, numPartitions: 3, replicationFactor: 1 }],
  });
  check(again === false, `creating ${RECORDS} twice answered ${again}, not false (exists)`);
  const expected = { [RECORDS]: 3, [GROUP_TOPIC]: 4, [TXN_IN]: 2, [TXN_OUT]: 2 };
  const { topics } = await admin.fetchTopicMetadata({ topics: Object.keys(expected) });
  const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
  check(same(partitions, expected), `partitions ${JSON.stringify(partitions)}`);
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
  const producerIds = new Set();
  const consumer = watch(kafka.consumer({ groupId: 'js_reader', maxWaitTimeInMs: 500 }));
  await consumer.connect();
  await consumer.subscribe({ topic: RECORDS, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      producerIds.add(message.batchContext.producerId);
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
  check(
    producerIds.size === 1 && Number([...producerIds][0]) >= 0,
    () => `the batches' producer ids are ${JSON.stringify([...producerIds])}, not one idempotent producer's`,
  );
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

// Every value of `topic` from the beginning, read by a new group up to the end offsets (all
// transactions have ended, so the last stable offsets too); the offsets reached are those of
// the batches kafkajs processed, including the ones that held only markers or aborted records.
async function readAll(admin, topic, readUncommitted, seconds = 15) {
  const ends = Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  const values = [];
  const reached = {};
  const consumer = watch(kafka.consumer({
    groupId: `js_reader_${topic}_${readUncommitted}`,
    readUncommitted,
    maxWaitTimeInMs: 300,
  }));
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    reached[e.payload.partition] = Number(e.payload.lastOffset) + 1;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => values.push(message.value.toString()) });
  await waitFor(
    () => same(reached, ends),
    step,
    () => `read ${values.length} values, reaching ${JSON.stringify(reached)}, not the end offsets ${JSON.stringify(ends)}`,
    seconds,
  );
  await consumer.disconnect();
  return values;
}

// The consume-transform-produce loop: each batch of the input, in chunks of 20, transformed in
// one transaction with the chunk's input offsets; the transaction after the first 40 inputs is
// aborted once its records were acknowledged, and its partition read again from the group's
// committed offset.
async function transactions(admin) {
  step = "producing the transactions' input";
  const p = producer();
  await p.connect();
  const inputs = [];
  for (let n = 0; n < INPUTS; n++) inputs.push({ key: `k${n}`, value: `v${n}` });
  const metas = await p.send({ topic: TXN_IN, acks: -1, messages: inputs });
  await p.disconnect();
  check(metas.every((m) => m.errorCode === 0), () => `send: ${JSON.stringify(metas)}`);

  step = 'the consume-transform-produce loop';
  const app = kafka.producer({
    transactionalId: TXN_ID,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await app.connect();
  const consumer = watch(kafka.consumer({ groupId: TXN_GROUP, readUncommitted: false, maxWaitTimeInMs: 300 }));
  await consumer.connect();
  await consumer.subscribe({ topic: TXN_IN, fromBeginning: true });
  let done = 0;
  let aborted = [];
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (let i = 0; i < batch.messages.length; i += 20) {
        const chunk = batch.messages.slice(i, i + 20);
        const last = chunk[chunk.length - 1].offset;
        const outputs = chunk.map((m) => ({ key: m.key.toString(), value: m.value.toString().toUpperCase() }));
        const tx = await app.transaction();
        await tx.send({ topic: TXN_OUT, acks: -1, messages: outputs });
        if (!aborted.length && done >= 40) {
          // A failure after the chunk was written: abort, then read it again from the
          // committed offset (none yet: the input's first offset, 0).
          await tx.abort();
          aborted = outputs.map((o) => o.value);
          const [fetched] = await admin.fetchOffsets({ groupId: TXN_GROUP, topics: [TXN_IN] });
          const committed = fetched.partitions.find((q) => q.partition === batch.partition).offset;
          consumer.seek({ topic: TXN_IN, partition: batch.partition, offset: Number(committed) < 0 ? '0' : committed });
          return;
        }
        await tx.sendOffsets({
          consumerGroupId: TXN_GROUP,
          topics: [{ topic: TXN_IN, partitions: [{ partition: batch.partition, offset: String(Number(last) + 1) }] }],
        });
        await tx.commit();
        resolveOffset(last);
        done += chunk.length;
        await heartbeat();
      }
    },
  });
  await waitFor(() => done >= INPUTS, step, () => `transformed ${done} of ${INPUTS} inputs in committed transactions`, 25);
  await consumer.disconnect();
  await app.disconnect();
  check(done === INPUTS, `transformed ${done} of ${INPUTS} inputs in committed transactions`);
  check(aborted.length > 0, 'no transaction was aborted');

  step = 'a readUncommitted: false consumer reading the output';
  const committed = await readAll(admin, TXN_OUT, false);
  check(
    same([...committed].sort(), Array.from({ length: INPUTS }, (_, n) => `V${n}`).sort()),
    () => `read ${committed.length} outputs, ${new Set(committed).size} distinct, not V0 to V${INPUTS - 1} once each`,
  );
  step = 'a readUncommitted: true consumer reading the output';
  const everything = await readAll(admin, TXN_OUT, true);
  check(
    everything.length > INPUTS && same([...everything].sort(), [...committed, ...aborted].sort()),
    () => `read ${everything.length} records, not the ${INPUTS} committed and the ${aborted.length} aborted`,
  );

  step = "the transactions' committed offsets";
  const ends = Object.fromEntries((await admin.fetchTopicOffsets(TXN_IN)).map((q) => [q.partition, Number(q.high)]));
  const [fetched] = await admin.fetchOffsets({ groupId: TXN_GROUP, topics: [TXN_IN] });
  const offsets = Object.fromEntries(fetched.partitions.map((q) => [q.partition, Number(q.offset)]));
  check(same(offsets, ends), `${TXN_GROUP} committed ${JSON.stringify(offsets)}, the input's end offsets are ${JSON.stringify(ends)}`);
  check(Object.values(ends).reduce((s, o) => s + o, 0) === INPUTS, `the input's end offsets ${JSON.stringify(ends)} do not add up to ${INPUTS}`);
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
  await transactions(admin);
  await admin.disconnect();
}

setTimeout(() => fail(`timed out after ${LIMIT_MS / 1000} s${crashed()}`), LIMIT_MS);
main().then(
  () => {
    console.log('ok');
    process.exit(0);
  },
  (e) => fail(`${e.stack || e}`),
);
