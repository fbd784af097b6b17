"""The one table from routing's domain errors to HTTP statuses (codes are the errors' own)."""

from __future__ import annotations

from services.routing.domain import errors as e
from shared.errors import ErrorTable

ERRORS: ErrorTable = {
    e.NoSuchAssignment: 404,
    e.NoSuchAccount: 404,
    e.NoSuchPhoto: 404,
    e.NoSuchClosure: 404,
    e.InvalidTransition: 409,
    e.ChangedMeanwhile: 409,
    e.UnknownAgency: 422,
    e.UnknownReport: 422,
    e.UnknownCategory: 422,
    e.InvalidDuplicate: 422,
    e.InvalidJurisdiction: 422,
    e.AccountRefused: 422,
    e.InvalidCredentials: 401,
    e.PhotoTooLarge: 413,
    e.TooManyPhotos: 422,
    e.UnsupportedPhoto: 415,
    e.InvalidImage: 422,
}
