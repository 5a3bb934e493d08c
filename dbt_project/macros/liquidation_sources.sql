{#-
  The staging models that feed liquidations, by kind. Add a venue's staging model here to bring
  it into every liquidation model (hourly totals and price clusters).
    * event models : event-level tapes (dataset liquidation_events), priority 1
    * bucket models: aggregator buckets (dataset liquidation_buckets), priority 2
-#}
{% macro liquidation_event_models() -%}
    {{ return([
        'stg_binance__liquidations',
        'stg_bybit__liquidations',
        'stg_okx__liquidations',
    ]) }}
{%- endmacro %}

{% macro liquidation_bucket_models() -%}
    {{ return([
        'stg_coinalyze__liquidations',
        'stg_gate__liquidations',
    ]) }}
{%- endmacro %}
