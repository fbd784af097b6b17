// One MongoDB user per service, each allowed to read and write its own database only.
// Run once against the replica set's primary as the root user (docker-compose's mongo-init does;
// on Kubernetes see deploy/README.md). Safe to run again: existing users get the new password.
//
// Passwords come from the environment: INTAKE_MONGODB_PASSWORD, ROUTING_MONGODB_PASSWORD,
// NOTIFY_MONGODB_PASSWORD, ANALYTICS_MONGODB_PASSWORD. Database = fieldreports_<service>
// (the services' default MONGODB_DB); the user is defined in that database (authSource).

const services = ["intake", "routing", "notify", "analytics"];

for (const service of services) {
  const password = process.env[`${service.toUpperCase()}_MONGODB_PASSWORD`];
  if (!password) {
    throw new Error(`${service.toUpperCase()}_MONGODB_PASSWORD is not set`);
  }
  const dbName = `fieldreports_${service}`;
  const target = db.getSiblingDB(dbName);
  const roles = [{ role: "readWrite", db: dbName }];
  if (target.getUser(service) === null) {
    target.createUser({ user: service, pwd: password, roles: roles });
    print(`created user ${service} on ${dbName}`);
  } else {
    target.updateUser(service, { pwd: password, roles: roles });
    print(`updated user ${service} on ${dbName}`);
  }
}
