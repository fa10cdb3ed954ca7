-- The subset of Dify's PostgreSQL schema that dify-usage-exporter's database source reads
-- (DIFY_SOURCE=database), for the simulator and the tests. Column names, types and indexes follow
-- langgenius/dify:
--   api/models/account.py                 tenants, accounts, tenant_account_joins
--   api/models/model.py                   apps, app_model_configs, conversations, messages
--   api/models/workflow.py                workflow_runs, workflow_node_executions
--   api/models/dataset.py                 datasets
--   api/migrations/versions/b289e2408ee2_add_workflow.py (2024-02-19, Dify 0.6.0)
--                                         workflow_runs, workflow_node_executions, messages.workflow_run_id
--   api/migrations/versions/2025_05_15_1558-b35c3db83d09_add_pipeline_info.py (Dify 1.9.0)
--                                         datasets.runtime_mode, datasets.pipeline_id
--   api/migrations/versions/2024_11_12_0925-01d6889832f7_add_created_at_index_for_messages.py
--                                         message_created_at_idx
-- Columns the exporter does not read are left out; timestamps are naive UTC as Dify writes them.

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name varchar(255) NOT NULL,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP(0)
);

CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    name varchar(255) NOT NULL,
    email varchar(255) NOT NULL,
    timezone varchar(255)
);

CREATE TABLE tenant_account_joins (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    account_id uuid NOT NULL,
    role varchar(16) NOT NULL DEFAULT 'normal'
);

CREATE TABLE apps (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    mode varchar(255) NOT NULL,
    app_model_config_id uuid,
    workflow_id uuid,
    status varchar(255) NOT NULL DEFAULT 'normal',
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX app_tenant_id_idx ON apps (tenant_id);

CREATE TABLE app_model_configs (
    id uuid PRIMARY KEY,
    app_id uuid NOT NULL,
    model text,
    agent_mode text
);
CREATE INDEX app_app_id_idx ON app_model_configs (app_id);

CREATE TABLE conversations (
    id uuid PRIMARY KEY,
    app_id uuid NOT NULL,
    mode varchar(255) NOT NULL,
    name varchar(255) NOT NULL,
    invoke_from varchar(255),
    from_source varchar(255) NOT NULL,
    from_end_user_id uuid,
    from_account_id uuid,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP(0)
);

CREATE TABLE messages (
    id uuid PRIMARY KEY,
    app_id uuid NOT NULL,
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    message_tokens integer NOT NULL DEFAULT 0,
    answer_tokens integer NOT NULL DEFAULT 0,
    total_price numeric(10, 7),
    currency varchar(255) NOT NULL,
    status varchar(255) NOT NULL DEFAULT 'normal',
    message_metadata text,
    invoke_from varchar(255),
    from_source varchar(255) NOT NULL,
    from_end_user_id uuid,
    from_account_id uuid,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP(0),
    workflow_run_id uuid
);
CREATE INDEX message_app_id_idx ON messages (app_id, created_at);
CREATE INDEX message_conversation_id_idx ON messages (conversation_id);
CREATE INDEX message_workflow_run_id_idx ON messages (conversation_id, workflow_run_id);
CREATE INDEX message_created_at_idx ON messages (created_at);

CREATE TABLE workflow_runs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    app_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    type varchar(255) NOT NULL,
    triggered_from varchar(255) NOT NULL,
    version varchar(255) NOT NULL,
    status varchar(255) NOT NULL,
    total_tokens bigint NOT NULL DEFAULT 0,
    created_by_role varchar(255) NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP(0),
    finished_at timestamp
);
CREATE INDEX workflow_run_triggerd_from_idx ON workflow_runs (tenant_id, app_id, triggered_from);
-- Not in Dify's schema: lets the exporter's created_at range query use an index here (docs/database-source.md, "Indexes").
CREATE INDEX workflow_run_created_at_idx ON workflow_runs (created_at);

CREATE TABLE workflow_node_executions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    app_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    triggered_from varchar(255) NOT NULL,
    workflow_run_id uuid,
    index integer NOT NULL,
    node_id varchar(255) NOT NULL,
    node_type varchar(255) NOT NULL,
    title varchar(255) NOT NULL,
    process_data text,
    outputs text,
    status varchar(255) NOT NULL,
    execution_metadata text,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP(0),
    created_by_role varchar(255) NOT NULL,
    created_by uuid NOT NULL
);
CREATE INDEX workflow_node_execution_workflow_run_idx ON workflow_node_executions (tenant_id, app_id, workflow_id, triggered_from, workflow_run_id);

CREATE TABLE datasets (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    runtime_mode varchar(255) DEFAULT 'general',
    pipeline_id uuid
);
