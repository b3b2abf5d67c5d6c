// The Parse JS SDK's own LiveQuery client, driven line by line from pytest.
//
// stdin: one JSON command per line, {id, cmd, ...args}; stdout: one JSON answer per
// line, {id, ok, result} or {id, ok: false, error}. Events are collected per
// subscription as the SDK emits them (the SDK's objects turned back into JSON) and
// handed out by "events"; pytest makes the writes itself, through REST.
import readline from 'node:readline';
import Parse from 'parse/node';

const subscriptions = new Map(); // name -> {subscription, events: [], opens: 0, errors: []}
const clientEvents = [];
let waiters = [];

function settle() {
  const pending = waiters;
  waiters = [];
  for (const waiter of pending) {
    if (!waiter()) waiters.push(waiter);
  }
}

function until(check, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters = waiters.filter((w) => w !== waiter);
      reject(new Error('timed out waiting'));
    }, timeoutMs);
    const waiter = () => {
      const value = check();
      if (value === undefined) return false;
      clearTimeout(timer);
      resolve(value);
      return true;
    };
    if (!waiter()) waiters.push(waiter);
  });
}

const asJSON = (object) => (object ? { ...object.toJSON(), className: object.className } : null);

const commands = {
  init({ serverURL, appId, javascriptKey }) {
    Parse.initialize(appId, javascriptKey);
    Parse.serverURL = serverURL;
    const client = Parse.LiveQuery;
    for (const name of ['open', 'close', 'error']) {
      client.on(name, (detail) => {
        clientEvents.push({ name, detail: detail ? String(detail) : null });
        settle();
      });
    }
    return true;
  },

  async login({ username, password }) {
    const user = await Parse.User.logIn(username, password);
    return user.getSessionToken();
  },

  async subscribe({ name, className, where, keys, watch, sessionToken }) {
    const query = Parse.Query.fromJSON(className, { where: where || {} });
    if (keys) query.select(...keys);
    if (watch) query.watch(...watch);
    const subscription = await query.subscribe(sessionToken);
    const entry = { subscription, events: [], opens: 0, errors: [] };
    subscriptions.set(name, entry);
    subscription.on('open', () => {
      entry.opens += 1;
      settle();
    });
    subscription.on('error', (error) => {
      entry.errors.push(String(error));
      settle();
    });
    for (const op of ['create', 'enter', 'update', 'leave', 'delete']) {
      subscription.on(op, (object, original) => {
        const hasOriginal = op === 'enter' || op === 'update' || op === 'leave';
        entry.events.push({
          op,
          object: asJSON(object),
          original: hasOriginal && original && original.toJSON ? asJSON(original) : null,
        });
        settle();
      });
    }
    await until(() => (entry.opens > 0 ? true : undefined), 15000);
    return true;
  },

  // Wait until the subscription has been (re)opened `count` times in all.
  async opened({ name, count, timeoutMs }) {
    const entry = subscriptions.get(name);
    await until(() => (entry.opens >= count ? true : undefined), timeoutMs || 15000);
    return entry.opens;
  },

  // The next `count` events of a subscription (taken off its list).
  async events({ name, count, timeoutMs }) {
    const entry = subscriptions.get(name);
    await until(() => (entry.events.length >= count ? true : undefined), timeoutMs || 15000);
    return entry.events.splice(0, count);
  },

  pending({ name }) {
    return subscriptions.get(name).events.length;
  },

  async unsubscribe({ name }) {
    await subscriptions.get(name).subscription.unsubscribe();
    subscriptions.delete(name);
    return true;
  },

  clientEvents() {
    return clientEvents;
  },

  async quit() {
    await Parse.LiveQuery.close();
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const { id, cmd, ...args } = JSON.parse(line);
  try {
    const result = await commands[cmd](args);
    process.stdout.write(JSON.stringify({ id, ok: true, result }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ id, ok: false, error: String(error && error.stack || error) }) + '\n');
  }
});
lines.on('close', () => process.exit(0));
