{{ stg_open_interest('okx_open_interest') }}
