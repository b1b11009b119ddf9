{#- Erasure requests: the valid raw rows (base_loyalty__erasure_requests), one per forgotten member, by anonymous key. -#}
with valid_requests as (
    select * from {{ ref('base_loyalty__erasure_requests') }}
    where row_status = 'valid'
),

renamed as (
    select
        erased_member_key,
        requested_at
    from valid_requests
)

select * from renamed
