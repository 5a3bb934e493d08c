{#-
  Override of dbt's get_where_subquery (the hook every generic test uses to read its model).
  Besides the standard `where` config it honours `meta.window_column`: in a windowed run
  (vars min_date / max_date) the test only reads rows of the build window, so staging and
  intermediate tests check the partition being built instead of rescanning all history.
  Set for the staging and intermediate folders in dbt_project.yml; mart tests read whole tables.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window_column = (config.get('meta') or {}).get('window_column') -%}
    {%- if window_column and levstress.is_windowed() -%}
        {%- do clauses.append(levstress.output_window(window_column)) -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ clauses | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
