// Preloaded by bun test (bunfig.toml). Tests speak to real databases: SQLite files in a
// temp directory by default, or the Postgres database named by DATABASE_URL.
process.env.SWITCHBOARD_LOG_LEVEL ||= 'silent'
