{#-
  Build window of an incremental run.

  The half-open day window [min_date, max_date) comes as vars (ISO dates), or from the
  environment (LEVSTRESS_DBT_MIN_DATE / LEVSTRESS_DBT_MAX_DATE): the pipeline uses the
  environment because new --vars values make dbt re-parse the whole project (~9 s) while a
  changed environment variable re-parses only the files that read it.
  With neither set, models build everything. Incremental models
    * read their inputs from  min_date - lookback  (trailing statistics need history), and
    * write only rows with    min_date <= date < max_date,
  so that building day by day gives the same rows as one full build.
-#}

{#- The environment is read only when nodes execute (`execute`): a variable read while parsing
    makes dbt re-parse every file that reads it whenever its value changes, i.e. on every run
    (~3 s). The window shapes SQL only, never refs or configs, so parsing does not need it. -#}
{% macro window_bound(name) -%}
    {%- set from_env = env_var('LEVSTRESS_DBT_' ~ (name | upper), '') if execute else '' -%}
    {{ return(var(name, none) or from_env or none) }}
{%- endmacro %}

{% macro is_windowed() -%}
    {%- set lo = window_bound('min_date') -%}
    {%- set hi = window_bound('max_date') -%}
    {%- if (lo is none) != (hi is none) -%}
        {{ exceptions.raise_compiler_error("Set both vars min_date and max_date, or neither (got min_date=" ~ lo ~ ", max_date=" ~ hi ~ ")") }}
    {%- endif -%}
    {%- if lo is none -%}
        {{ return(false) }}
    {%- endif -%}
    {#- ISO dates; a UTC-midnight ISO datetime (what datetime.isoformat() gives for a daily
        partition bound) is accepted and read as its date -#}
    {%- for v in [lo, hi] -%}
        {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}([T ]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?)?$', v | string) -%}
            {{ exceptions.raise_compiler_error("min_date / max_date must be ISO dates (YYYY-MM-DD) or UTC midnights, got: " ~ v) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if (lo | string)[:10] >= (hi | string)[:10] -%}
        {{ exceptions.raise_compiler_error("min_date must be before max_date (half-open window), got " ~ lo ~ " .. " ~ hi) }}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}

{% macro window_start() -%}
    cast('{{ (window_bound("min_date") | string)[:10] }}' as date)
{%- endmacro %}

{% macro window_end() -%}
    cast('{{ (window_bound("max_date") | string)[:10] }}' as date)
{%- endmacro %}

{#- First input day of a windowed run: min_date - lookback_days. -#}
{% macro input_start(lookback_days=none) -%}
    {%- set days = var('lookback_days') if lookback_days is none else lookback_days -%}
    {{ dbt.dateadd('day', -1 * (days | int), levstress.window_start()) }}
{%- endmacro %}

{#- Predicate on an input's date/timestamp column: [min_date - lookback, max_date), or true. -#}
{% macro input_window(column, lookback_days=none) -%}
    {%- if levstress.is_windowed() -%}
        ({{ column }} >= {{ levstress.input_start(lookback_days) }} and {{ column }} < {{ levstress.window_end() }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- Predicate on an output's date/timestamp column: [min_date, max_date), or true. -#}
{% macro output_window(column) -%}
    {%- if levstress.is_windowed() -%}
        ({{ column }} >= {{ levstress.window_start() }} and {{ column }} < {{ levstress.window_end() }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of the incremental marts: a windowed run first deletes every row of the window
    (on the model's unique_key column, a date or hour), so re-running a window whose inputs
    shrank leaves no stale rows. delete+insert then only inserts. -#}
{% macro delete_build_window() -%}
    {{ return(adapter.dispatch('delete_build_window', 'levstress')()) }}
{%- endmacro %}

{#- Spark + Parquet has no DELETE: drop the window's partitions instead (every mart is
    partitioned by its UTC day, `date`, on Spark; dbt_project.yml). -#}
{% macro spark__delete_build_window() -%}
    {%- if is_incremental() and levstress.is_windowed() -%}
        {%- set column = config.get('partition_by') -%}
        {%- set start = modules.datetime.date.fromisoformat((levstress.window_bound('min_date') | string)[:10]) -%}
        {%- set end = modules.datetime.date.fromisoformat((levstress.window_bound('max_date') | string)[:10]) -%}
        {%- set specs = [] -%}
        {%- for d in range((end - start).days) -%}
            {%- do specs.append("partition (" ~ column ~ " = '" ~ (start + modules.datetime.timedelta(days=d)).isoformat() ~ "')") -%}
        {%- endfor -%}
        alter table {{ this }} drop if exists {{ specs | join(', ') }}
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_build_window() -%}
    {%- if is_incremental() and levstress.is_windowed() -%}
        delete from {{ this }} where {{ levstress.output_window(config.get('unique_key')) }}
    {%- endif -%}
{%- endmacro %}
