//! The names of what the engine keeps in the log beside users' topics: the command log, and
//! each persistent query's consumer group, which also starts the names of its changelog and
//! repartition topics (`<group>-<store>-changelog`). On the embedded log they are Brook's own
//! (`_brook_commands`, `_brook_query_<id>`); on Kafka they are ksqlDB's, made from the service
//! id that servers sharing the work have in common (`_confluent-ksql-<service id>_command_topic`,
//! `_confluent-ksql-<service id>query_<id>`), as ksqlDB's `ksql.service.id` does.

/// ksqlDB's default `ksql.service.id`.
pub const DEFAULT_SERVICE_ID: &str = "default_";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternalNames {
    command_topic: String,
    /// A persistent query's group is this prefix and its id.
    query_prefix: String,
    transient_prefix: String,
}

impl InternalNames {
    /// Brook's names on its embedded log.
    pub fn embedded() -> InternalNames {
        InternalNames {
            command_topic: "_brook_commands".into(),
            query_prefix: "_brook_query_".into(),
            transient_prefix: "_brook_transient_".into(),
        }
    }

    /// ksqlDB's names for the servers of service `service_id`.
    pub fn for_service(service_id: &str) -> InternalNames {
        let root = format!("_confluent-ksql-{service_id}");
        InternalNames {
            command_topic: format!("{root}_command_topic"),
            query_prefix: format!("{root}query_"),
            transient_prefix: format!("{root}transient_"),
        }
    }

    /// The topic that holds the catalog's statements.
    pub fn command_topic(&self) -> &str {
        &self.command_topic
    }

    /// The consumer group of persistent query `id`, and the prefix of its internal topics.
    pub fn query_group(&self, id: &str) -> String {
        format!("{}{id}", self.query_prefix)
    }

    /// The consumer group of push query `id`.
    pub fn transient_group(&self, id: &str) -> String {
        format!("{}{id}", self.transient_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_names_are_ksqldbs_for_the_service_id() {
        let names = InternalNames::for_service(DEFAULT_SERVICE_ID);
        assert_eq!(
            names.command_topic(),
            "_confluent-ksql-default__command_topic"
        );
        assert_eq!(
            names.query_group("CTAS_T_3"),
            "_confluent-ksql-default_query_CTAS_T_3"
        );
        let other = InternalNames::for_service("prod_");
        assert_eq!(other.command_topic(), "_confluent-ksql-prod__command_topic");
        assert_eq!(
            InternalNames::embedded().query_group("Q_1"),
            "_brook_query_Q_1"
        );
    }
}
