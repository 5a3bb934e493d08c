{{ stg_liquidation_events('okx_liquidations') }}
