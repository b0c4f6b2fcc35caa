-- The schema of a Shipyard store at migration 1 on SQLite, as that release created it.
-- tests/store/test_migration_interrupted.py builds a version-1 store file from it.
CREATE TABLE schema_migrations (
	version INTEGER NOT NULL, 
	description TEXT NOT NULL, 
	applied_at DATETIME NOT NULL, 
	PRIMARY KEY (version)
);
CREATE TABLE contexts (
	id INTEGER NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	parent_id INTEGER, 
	state VARCHAR(16), 
	properties JSON NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	CONSTRAINT pk_contexts PRIMARY KEY (id), 
	CONSTRAINT uq_contexts_type_name UNIQUE (type, name), 
	CONSTRAINT ck_contexts_type_valid CHECK (type IN ('pipeline', 'run')), 
	CONSTRAINT ck_contexts_state_valid CHECK (state IS NULL OR state IN ('running', 'complete', 'failed', 'abandoned')), 
	CONSTRAINT fk_contexts_parent_id_contexts FOREIGN KEY(parent_id) REFERENCES contexts (id)
);
CREATE INDEX ix_contexts_type_started_at ON contexts (type, started_at);
CREATE INDEX ix_contexts_parent_id ON contexts (parent_id);
CREATE TABLE artifacts (
	id INTEGER NOT NULL, 
	type_name VARCHAR(255) NOT NULL, 
	uri TEXT NOT NULL, 
	name TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	fingerprint VARCHAR(255) NOT NULL, 
	properties JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_artifacts PRIMARY KEY (id), 
	CONSTRAINT ck_artifacts_state_valid CHECK (state IN ('live', 'deleted'))
);
CREATE INDEX ix_artifacts_state ON artifacts (state);
CREATE TABLE executions (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	node VARCHAR(255) NOT NULL, 
	component VARCHAR(255) NOT NULL, 
	parameters JSON NOT NULL, 
	cache_key VARCHAR(255) NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	error TEXT, 
	cached_from INTEGER, 
	CONSTRAINT pk_executions PRIMARY KEY (id), 
	CONSTRAINT ck_executions_state_valid CHECK (state IN ('running', 'complete', 'cached', 'failed', 'skipped', 'abandoned')), 
	CONSTRAINT fk_executions_run_id_contexts FOREIGN KEY(run_id) REFERENCES contexts (id), 
	CONSTRAINT fk_executions_cached_from_executions FOREIGN KEY(cached_from) REFERENCES executions (id)
);
CREATE INDEX ix_executions_run_id ON executions (run_id);
CREATE INDEX ix_executions_cache_key ON executions (cache_key);
CREATE TABLE attributions (
	context_id INTEGER NOT NULL, 
	artifact_id INTEGER NOT NULL, 
	CONSTRAINT pk_attributions PRIMARY KEY (context_id, artifact_id), 
	CONSTRAINT fk_attributions_context_id_contexts FOREIGN KEY(context_id) REFERENCES contexts (id), 
	CONSTRAINT fk_attributions_artifact_id_artifacts FOREIGN KEY(artifact_id) REFERENCES artifacts (id)
);
CREATE TABLE events (
	id INTEGER NOT NULL, 
	artifact_id INTEGER NOT NULL, 
	execution_id INTEGER NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	CONSTRAINT pk_events PRIMARY KEY (id), 
	CONSTRAINT ck_events_kind_valid CHECK (kind IN ('input', 'output')), 
	CONSTRAINT fk_events_artifact_id_artifacts FOREIGN KEY(artifact_id) REFERENCES artifacts (id), 
	CONSTRAINT fk_events_execution_id_executions FOREIGN KEY(execution_id) REFERENCES executions (id)
);
CREATE INDEX ix_events_artifact_id ON events (artifact_id);
CREATE UNIQUE INDEX ix_events_execution_id_kind_name ON events (execution_id, kind, name);
CREATE TABLE associations (
	context_id INTEGER NOT NULL, 
	execution_id INTEGER NOT NULL, 
	CONSTRAINT pk_associations PRIMARY KEY (context_id, execution_id), 
	CONSTRAINT fk_associations_context_id_contexts FOREIGN KEY(context_id) REFERENCES contexts (id), 
	CONSTRAINT fk_associations_execution_id_executions FOREIGN KEY(execution_id) REFERENCES executions (id)
);
