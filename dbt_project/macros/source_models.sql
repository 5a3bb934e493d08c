{#-
  The dbt side's source registry: every staging model the marts read, with its dataset (as in
  ingestion/schemas.py) and, where coverage is graded, the coverage rule. Adding a source to the
  marts = its staging folder (sources yml + one-line models) + its entries here (+ the exchange in
  the var `exchanges`). Staged-only models (CoinGlass) are left out on purpose.

  coverage: (dataset, time column, interval, sparse, whole) - see macros/coverage_sources.sql.
  collector: the model is a collector tape; its days are graded on the collector's uptime too.
  fill: a catch-up source, used for an exchange-day only when that venue's own tape is partial.
-#}
{% macro source_models(dataset=none) -%}
{%- set tape = 'event_time' -%}
{%- set models = [
    {'model': 'stg_binance__liquidations', 'dataset': 'liquidation_events', 'collector': true,
     'coverage': ('liquidations', tape, none, true, 'throttled')},
    {'model': 'stg_bybit__liquidations', 'dataset': 'liquidation_events', 'collector': true,
     'coverage': ('liquidations', tape, none, true, 'complete')},
    {'model': 'stg_okx__liquidations', 'dataset': 'liquidation_events',
     'coverage': ('liquidations', tape, none, true, 'throttled')},
    {'model': 'stg_coinalyze__liquidations', 'dataset': 'liquidation_buckets',
     'coverage': ('liquidations', 'bucket_start', 'bucket_minutes', true, 'estimate')},
    {'model': 'stg_gate__liquidations', 'dataset': 'liquidation_buckets',
     'coverage': ('liquidations', 'bucket_start', 'bucket_minutes', false, 'estimate')},
    {'model': 'stg_coinalyze__liquidation_fills', 'dataset': 'liquidation_buckets', 'fill': true,
     'coverage': ('liquidations', 'bucket_start', 'bucket_minutes', true, 'estimate')},
    {'model': 'stg_binance__collector_uptime', 'dataset': 'collector_uptime', 'coverage': none},
    {'model': 'stg_bybit__collector_uptime', 'dataset': 'collector_uptime', 'coverage': none},
    {'model': 'stg_binance__funding', 'dataset': 'funding_rates',
     'coverage': ('funding', 'funding_time', 'interval_hours * 60', false, 'complete')},
    {'model': 'stg_bybit__funding', 'dataset': 'funding_rates',
     'coverage': ('funding', 'funding_time', 'interval_hours * 60', false, 'complete')},
    {'model': 'stg_okx__funding', 'dataset': 'funding_rates',
     'coverage': ('funding', 'funding_time', 'interval_hours * 60', false, 'complete')},
    {'model': 'stg_hyperliquid__funding', 'dataset': 'funding_rates',
     'coverage': ('funding', 'funding_time', 'interval_hours * 60', false, 'complete')},
    {'model': 'stg_gate__funding', 'dataset': 'funding_rates',
     'coverage': ('funding', 'funding_time', 'interval_hours * 60', false, 'complete')},
    {'model': 'stg_binance__open_interest', 'dataset': 'open_interest',
     'coverage': ('open_interest', 'observed_at', '60', false, 'complete')},
    {'model': 'stg_bybit__open_interest', 'dataset': 'open_interest',
     'coverage': ('open_interest', 'observed_at', '60', false, 'complete')},
    {'model': 'stg_okx__open_interest', 'dataset': 'open_interest',
     'coverage': ('open_interest', 'observed_at', '60', false, 'complete')},
    {'model': 'stg_coinalyze__open_interest', 'dataset': 'open_interest',
     'coverage': ('open_interest', 'observed_at', '60', false, 'estimate')},
    {'model': 'stg_gate__open_interest', 'dataset': 'open_interest',
     'coverage': ('open_interest', 'observed_at', '60', false, 'complete')},
    {'model': 'stg_binance__klines', 'dataset': 'candles',
     'coverage': ('prices', 'open_time', 'interval_minutes', false, 'complete')},
    {'model': 'stg_gate__klines', 'dataset': 'candles',
     'coverage': ('prices', 'open_time', 'interval_minutes', false, 'complete')},
    {'model': 'stg_deribit__dvol', 'dataset': 'volatility_index', 'coverage': none},
] -%}
{{ return(models if dataset is none else models | selectattr('dataset', 'equalto', dataset) | list) }}
{%- endmacro %}

{#- The staging model names of one dataset, for the intermediate unions. -#}
{% macro source_model_names(dataset) -%}
{{ return(levstress.source_models(dataset) | map(attribute='model') | list) }}
{%- endmacro %}

{#-
  Which source an exchange-day's liquidations come from, lowest first: the venue's own event tape
  (1), an aggregator that is the venue's only source (2), a catch-up fill (3). A collector tape
  whose collector was away too long that day drops below the fill (4): see
  int_liquidations_bucketed_to_hour and fct_source_coverage_daily, which both apply this.
-#}
{% macro source_priority(entry) -%}
{{ return(1 if entry.dataset == 'liquidation_events' else (3 if entry.get('fill') else 2)) }}
{%- endmacro %}
