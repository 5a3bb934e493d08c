{#- column_name = sum of the addend columns, within a relative tolerance (floating point). -#}
{% test equals_sum_of(model, column_name, addends, tolerance=1e-9) %}
select
    {{ column_name }},
    {{ addends | join(', ') }}
from {{ model }}
where abs({{ column_name }} - ({{ addends | join(' + ') }}))
      > {{ tolerance }} * greatest(abs({{ column_name }}), 1)
   or ({{ column_name }} is null) != (({{ addends | join(' + ') }}) is null)
{% endtest %}
