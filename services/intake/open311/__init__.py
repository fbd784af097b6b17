"""Open311 GeoReport v2 at `/open311/v2`: its own router and serializers over intake's use cases."""
