{#-
  The staging models of event-level liquidation tapes (dataset liquidation_events, registered in
  macros/source_models.sql), for int_liquidations_priced.
-#}
{% macro liquidation_event_models() -%}
    {{ return(levstress.source_model_names('liquidation_events')) }}
{%- endmacro %}
