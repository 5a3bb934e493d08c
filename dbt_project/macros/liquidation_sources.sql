{#-
  The staging models that feed liquidations, by kind (registered in macros/source_models.sql);
  used by int_liquidations_bucketed_to_hour and int_liquidations_priced.
    * event models : event-level tapes (dataset liquidation_events), priority 1
    * bucket models: aggregator buckets (dataset liquidation_buckets), priority 2
-#}
{% macro liquidation_event_models() -%}
    {{ return(levstress.source_model_names('liquidation_events')) }}
{%- endmacro %}

{% macro liquidation_bucket_models() -%}
    {{ return(levstress.source_model_names('liquidation_buckets')) }}
{%- endmacro %}
