// Healthcheck of the mongo container: initiates the single-node replica set the first time
// (only when it is not configured yet), then reports healthy once this node is the primary.
// MONGO_RS_HOST is the member's address as the services reach it (mongo:27017 in compose).
try {
  rs.status();
} catch (e) {
  if (e.codeName !== "NotYetInitialized") throw e;
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: process.env.MONGO_RS_HOST || "mongo:27017" }] });
}
quit(db.hello().isWritablePrimary ? 0 : 1);
