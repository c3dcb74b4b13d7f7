/**
 * `npm start`: will start a local three-node dkv cluster (ports 7070/7071,
 * 8080/8081, 9090/9091). The daemon is not built yet, so for now this says so
 * and exits non-zero rather than pretending.
 */
console.error(
  'dkv: the daemon (LMDB storage, gRPC/REST API) is not built yet, so there is no cluster to start.\n' +
    'What runs today: `npm test`, and the deterministic cluster simulator: `npm run sim -- --seeds 100`.',
);
process.exit(1);
