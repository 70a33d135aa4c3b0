// Runs the bundled Lambda once in a fresh process, as a Lambda container
// would: `node invoke-bundle.mjs <bundle path> <event JSON>`. Env points the
// SDK at the local cloud. Exit code 0 = handler resolved.
const [bundle, eventJson] = process.argv.slice(2);
const { handler } = await import(bundle);
const started = Date.now();
await handler(JSON.parse(eventJson), {
  awsRequestId: `child-${process.pid}`,
  getRemainingTimeInMillis: () => 60_000 - (Date.now() - started),
});
