{{ stg_funding_rates('okx_funding') }}
