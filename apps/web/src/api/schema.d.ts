/**
 * Generated from the API's OpenAPI document by apps/web/scripts/gen-api-types.ts
 * (npm run gen:api -w @accountdb/web). Do not edit by hand; a test fails when it drifts.
 */
export interface paths {
  '/api/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Health check
     * @description Answers 200 when the API and its database work, 503 when the database does not. steam_time tells which clock Steam Guard codes use (a failing Steam time source is a warning there, never a 503).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "status": "ok",
             *       "db": "ok",
             *       "version": "0.1.0",
             *       "steam_time": {
             *         "enabled": true,
             *         "source": "steam",
             *         "offset_s": 2,
             *         "checked_at": "2025-01-01T12:00:00.000Z"
             *       }
             *     }
             */
            'application/json': {
              db: 'ok' | 'error';
              status: 'ok' | 'error';
              /** @description Steam's clock for Steam Guard codes. Informational: a failing source never makes health 503. */
              steam_time: {
                /** @description When the source was last asked (null: off or not asked yet) */
                checked_at: string | null;
                /** @description A Steam time source is configured (ACCOUNTDB_STEAM_TIME_URL is not off) */
                enabled: boolean;
                /** @description Seconds added to the local clock for Steam Guard codes (Steam's time − local) */
                offset_s: number;
                /** @description The clock Steam Guard codes use now: steam (the source's last answer) or local (source off, not asked yet, or failing) */
                source: 'steam' | 'local';
                /** @description Present while the source fails: why, and that codes use the local clock */
                warning?: string;
              };
              version: string;
            };
          };
        };
        /** @description Default Response */
        503: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              db: 'ok' | 'error';
              status: 'ok' | 'error';
              /** @description Steam's clock for Steam Guard codes. Informational: a failing source never makes health 503. */
              steam_time: {
                /** @description When the source was last asked (null: off or not asked yet) */
                checked_at: string | null;
                /** @description A Steam time source is configured (ACCOUNTDB_STEAM_TIME_URL is not off) */
                enabled: boolean;
                /** @description Seconds added to the local clock for Steam Guard codes (Steam's time − local) */
                offset_s: number;
                /** @description The clock Steam Guard codes use now: steam (the source's last answer) or local (source off, not asked yet, or failing) */
                source: 'steam' | 'local';
                /** @description Present while the source fails: why, and that codes use the local clock */
                warning?: string;
              };
              version: string;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List accounts
     * @description Accounts at online services, with their credentials and 2FA secrets stored encrypted. Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, `q` lists the best matches first. `total` is null unless `count=true` is asked, the first page holds every match, or `q` is the only filter (the search counts its matches anyway).
     */
    get: {
      parameters: {
        query: {
          /** @description A lease is running */
          claimed?: boolean;
          /** @description true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match. */
          count?: boolean;
          /** @description next_cursor of the previous page */
          cursor?: string;
          /** @description Exact e-mail, ignoring case */
          email?: string;
          external_id?: string;
          /** @description Has a TOTP or Steam shared secret */
          has_totp?: boolean;
          /** @description Page size */
          limit: number;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the account's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          service?: string;
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          /** @description Comma-separated fields, "-" for descending. Allowed: created_at, updated_at, username, service, status, external_id. Default created_at. */
          sort?: string;
          /** @description Status as it stands now */
          status?: 'active' | 'locked' | 'disabled' | 'banned';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          /** @description Exact username, ignoring case */
          username?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "external_id": "76561198000000000",
             *           "service": "steam",
             *           "username": "gaben_fan_42",
             *           "email": "fan42@example.com",
             *           "status": "active",
             *           "locked_until": null,
             *           "status_reason": null,
             *           "tags": [
             *             "prime"
             *           ],
             *           "notes": null,
             *           "attributes": {},
             *           "has_password": true,
             *           "has_email_password": true,
             *           "has_vault_password": false,
             *           "has_totp_secret": false,
             *           "has_shared_secret": true,
             *           "has_identity_secret": true,
             *           "has_revocation_code": true,
             *           "has_steam_guard": true,
             *           "has_totp": true,
             *           "claimed_by": null,
             *           "claimed_until": null,
             *           "created_at": "2026-11-24T12:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": "WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd",
             *       "total": 120
             *     }
             */
            'application/json': {
              items: components['schemas']['Account'][];
              /** @description Pass as cursor for the next page; null on the last */
              next_cursor: string | null;
              /** @description Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted). */
              total: number | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create an account
     * @description Creates an account. Answers 201 with the object, its ETag and Location. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Service-specific extras (not secret). At most 100 fields, nested at most 32 levels, 16 KiB as JSON. */
            attributes?: {
              [key: string]: unknown;
            };
            /**
             * Format: date-time
             * @description When the account was created, e.g. its creation time in the earlier system it comes from (default: now). Not in the future (5 minutes of clock skew allowed).
             * @example 2021-05-03T00:00:00.000Z
             */
            created_at?: string;
            email?: string | null;
            email_password?: string | null;
            external_id?: string | null;
            identity_secret?: string | null;
            locked_until?: string | null;
            notes?: string | null;
            /**
             * Format: uuid
             * @description Admins: create the object for this user (default: yourself)
             */
            owner_id?: string;
            password?: string | null;
            revocation_code?: string | null;
            /**
             * @description Service the account belongs to
             * @example steam
             */
            service?: string;
            shared_secret?: string | null;
            /** @description active | locked (until locked_until, then active again by itself) | disabled | banned */
            status?: 'active' | 'locked' | 'disabled' | 'banned';
            status_reason?: string | null;
            steam_guard?: {
              [key: string]: unknown;
            } | null;
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            totp_secret?: string | null;
            /**
             * @description Login name at the service
             * @example gaben_fan_42
             */
            username: string;
            vault_password?: string | null;
          };
        };
      };
      responses: {
        /** @description An account at an online service. Secrets are never included: has_<secret> tells which are stored. */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get an account
     * @description One account with its ETag (send it back in If-Match to update safely). Another user's account answers 404; an admin reads it (a direct link works whatever the list scope), and it then carries its owner.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description An account at an online service. Secrets are never included: has_<secret> tells which are stored. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete an account
     * @description Deletes the account; links pointing at it are cleared. With If-Match, a stale ETag answers 412. Only its owner (or an admin) deletes it: a user it is shared with gets 403 (owner_only, or share_read_only for a read-only share).
     */
    delete: {
      parameters: {
        query?: never;
        header?: {
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update an account
     * @description Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing. A account shared with you read-only answers 403 share_read_only; a read-write share may change it. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: {
          /** @description ETag from a GET */
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Service-specific extras (not secret). At most 100 fields, nested at most 32 levels, 16 KiB as JSON. */
            attributes?: {
              [key: string]: unknown;
            };
            /**
             * Format: date-time
             * @description When the account was created, e.g. its creation time in the earlier system it comes from (default: now). Not in the future (5 minutes of clock skew allowed).
             * @example 2021-05-03T00:00:00.000Z
             */
            created_at?: string;
            email?: string | null;
            email_password?: string | null;
            external_id?: string | null;
            identity_secret?: string | null;
            locked_until?: string | null;
            notes?: string | null;
            password?: string | null;
            revocation_code?: string | null;
            /**
             * @description Service the account belongs to
             * @example steam
             */
            service?: string;
            shared_secret?: string | null;
            /** @description active | locked (until locked_until, then active again by itself) | disabled | banned */
            status?: 'active' | 'locked' | 'disabled' | 'banned';
            status_reason?: string | null;
            steam_guard?: {
              [key: string]: unknown;
            } | null;
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            totp_secret?: string | null;
            username?: string;
            vault_password?: string | null;
          };
        };
      };
      responses: {
        /** @description An account at an online service. Secrets are never included: has_<secret> tells which are stored. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/accounts/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Status history of an account
     * @description Every status change of the account, newest first.
     */
    get: {
      parameters: {
        query: {
          limit: number;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "from_status": "active",
             *           "to_status": "locked",
             *           "reason": "Too many login attempts",
             *           "at": "2026-11-25T09:30:00.000Z"
             *         },
             *         {
             *           "from_status": null,
             *           "to_status": "active",
             *           "reason": null,
             *           "at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              items: {
                /** Format: date-time */
                at: string;
                from_status: string | null;
                reason: string | null;
                to_status: string;
              }[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/{id}/release': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Release a claimed account
     * @description Ends the lease at once. With claimed_by, only that holder's lease is ended (409 not_lease_holder otherwise). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "claimed_by": "worker-3"
           *     }
           */
          'application/json': {
            claimed_by?: string;
          };
        };
      };
      responses: {
        /** @description An account at an online service. Secrets are never included: has_<secret> tells which are stored. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/{id}/secrets': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Reveal an account's secrets
     * @description The decrypted secrets (null where none is stored). Every reveal is written to the audit log first; if that fails, nothing is revealed. Answers carry Cache-Control: no-store. An admin revealing another user's account must give a reason (400 reason_required without one); the entry, with the reason, is in the owner's audit log. A grantee of a shared account reads them only when the share includes its secrets (403 secrets_not_shared otherwise); the reveal is then in the owner's log and the grantee's.
     */
    get: {
      parameters: {
        query?: {
          /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
          reason?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The decrypted secrets of one account */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "password": "hunter2 but longer",
             *       "email_password": "mailbox passphrase",
             *       "vault_password": null,
             *       "totp_secret": null,
             *       "shared_secret": "cnOgv/KdpLoP6Nbh0GMkXkPXALQ=",
             *       "identity_secret": "aWRlbnRpdHktc2VjcmV0LTAwMDE=",
             *       "revocation_code": "R12345",
             *       "steam_guard": {
             *         "device_id": "android:0d9f1c2e-5b1a-4c3e-9a7b-2f6e8d0c4b1a"
             *       }
             *     }
             */
            'application/json': {
              email_password: string | null;
              identity_secret: string | null;
              password: string | null;
              revocation_code: string | null;
              shared_secret: string | null;
              steam_guard: {
                [key: string]: unknown;
              } | null;
              totp_secret: string | null;
              vault_password: string | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/{id}/totp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Current 2FA code
     * @description The current code from the account's Steam shared_secret (kind steam: 5 characters) or else its TOTP secret (kind totp, RFC 6238), with the seconds it stays valid. 409 no_totp_secret when the account has neither. Audited. Steam codes are made at Steam's time (the local clock plus the offset from the Steam time source, see steam_time in GET /api/health); TOTP codes at the local time. An admin asking for another user's code must give a reason (400 reason_required without one); the entry, with the reason, is in the owner's audit log. A grantee of a shared account gets the code only when the share includes its secrets (403 secrets_not_shared otherwise).
     */
    get: {
      parameters: {
        query?: {
          /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
          reason?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "code": "K7R2D",
             *       "period": 30,
             *       "remaining_s": 17,
             *       "kind": "steam"
             *     }
             */
            'application/json': {
              code: string;
              kind: 'totp' | 'steam';
              period: number;
              remaining_s: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/bulk': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create many accounts
     * @description Creates up to 10000 accounts in one transaction. Each item is validated like POST /accounts. When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row (errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the failed ones reported. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          /** @description Write the valid items even when some fail */
          partial: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "external_id": "76561198000000000",
           *           "service": "steam",
           *           "username": "gaben_fan_42",
           *           "email": "fan42@example.com",
           *           "password": "hunter2 but longer",
           *           "email_password": "mailbox passphrase",
           *           "shared_secret": "cnOgv/KdpLoP6Nbh0GMkXkPXALQ=",
           *           "identity_secret": "aWRlbnRpdHktc2VjcmV0LTAwMDE=",
           *           "revocation_code": "R12345",
           *           "tags": [
           *             "prime"
           *           ]
           *         },
           *         {
           *           "service": "example-mail",
           *           "username": "alice.smith",
           *           "password": "another passphrase",
           *           "totp_secret": "JBSWY3DPEHPK3PXP",
           *           "status": "locked",
           *           "locked_until": "2026-12-01T00:00:00.000Z",
           *           "status_reason": "Too many login attempts",
           *           "attributes": {
           *             "region": "eu"
           *           }
           *         }
           *       ]
           *     }
           */
          'application/json': {
            items: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              created: number;
              errors: {
                errors: {
                  message: string;
                  path: string;
                }[];
                /** @description 0-based item index */
                row: number;
              }[];
              failed: number;
              /** @description Ids of the created objects, in item order */
              ids: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/bulk-delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Delete many accounts
     * @description Deletes up to 10000 listed accounts in one transaction. Ids that do not exist (or are not yours) are reported in not_found. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "ids": [
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
           *       ]
           *     }
           */
          'application/json': {
            ids: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: number;
              not_found: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/claim': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Claim an account
     * @description Leases one active, unclaimed account matching the filter to the caller for lease_seconds, atomically: concurrent claimers never get the same account. The least recently claimed account goes first. A lapsed lease makes the account claimable again. 404 nothing_to_claim when none is free. With include_secrets=true the answer carries the decrypted secrets (audited). An admin claiming with secrets for another user (owner_id) gives a reason (400 reason_required before anything is claimed), written to the audit entry that user reads. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "lease_seconds": 900,
           *       "claimed_by": "worker-3",
           *       "filter": {
           *         "service": "steam",
           *         "tags": [
           *           "prime"
           *         ]
           *       },
           *       "include_secrets": true
           *     }
           */
          'application/json': {
            /** @description Name of the worker (default: you) */
            claimed_by?: string;
            filter?: {
              service?: string;
              /**
               * @description Free labels; trimmed, duplicates dropped (case-insensitive)
               * @example [
               *       "prime",
               *       "eu"
               *     ]
               */
              tags?: string[];
            };
            /** @default false */
            include_secrets: boolean;
            /** @default 600 */
            lease_seconds: number;
            /**
             * Format: uuid
             * @description Admins: claim one of this user's accounts
             */
            owner_id?: string;
            /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
            reason?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              account: components['schemas']['Account'];
              /**
               * @description The decrypted secrets of one account
               * @example {
               *       "password": "hunter2 but longer",
               *       "email_password": "mailbox passphrase",
               *       "vault_password": null,
               *       "totp_secret": null,
               *       "shared_secret": "cnOgv/KdpLoP6Nbh0GMkXkPXALQ=",
               *       "identity_secret": "aWRlbnRpdHktc2VjcmV0LTAwMDE=",
               *       "revocation_code": "R12345",
               *       "steam_guard": {
               *         "device_id": "android:0d9f1c2e-5b1a-4c3e-9a7b-2f6e8d0c4b1a"
               *       }
               *     }
               */
              secrets?: {
                email_password: string | null;
                identity_secret: string | null;
                password: string | null;
                revocation_code: string | null;
                shared_secret: string | null;
                steam_guard: {
                  [key: string]: unknown;
                } | null;
                totp_secret: string | null;
                vault_password: string | null;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export accounts
     * @description Streams every account matching the list filters as CSV or a JSON array (same fields as the API). Audited. With include_secrets=true the secrets are included in clear; the export is audited as such. legacy-json and legacy-csv write the earlier AccountDB's upload format (flags from status and tags; without include_secrets no password or Steam Guard data); POST /accounts/import reads them back. A row that cannot be read in the first 1000 fails the request (problem answer). One that fails later, once the file has started, ends it with an error so it never passes for complete: JSON gets a last line {"accountdb_export_error": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last record "EXPORT FAILED: …" with one field more than the header. The HTTP trailer x-export-status says ok or failed. At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    get: {
      parameters: {
        query: {
          /** @description A lease is running */
          claimed?: boolean;
          /** @description Exact e-mail, ignoring case */
          email?: string;
          external_id?: string;
          /** @description csv or json: the fields of the API; legacy-json: the earlier AccountDB's upload objects ({id, user, email, vault, metadata, steamguard, prime, lock, perm_lock}); legacy-csv: the earlier AccountDB's upload CSV (dotted headers), every cell exactly as it is (not defused: not for spreadsheets) */
          format: 'csv' | 'json' | 'legacy-json' | 'legacy-csv';
          /** @description Has a TOTP or Steam shared secret */
          has_totp?: boolean;
          /** @description Include decrypted secrets (audited) */
          include_secrets: boolean;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the account's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
          reason?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          service?: string;
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          sort?: string;
          /** @description Status as it stands now */
          status?: 'active' | 'locked' | 'disabled' | 'banned';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          /** @description Exact username, ignoring case */
          username?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The export, sent as a file download */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Account'][];
            'text/csv': string;
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/import': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Import accounts
     * @description Uploads accounts as a JSON array (or one object), JSON lines (application/x-ndjson) or CSV with a header row (text/csv). Each record may use AccountDB's field names (as POST /accounts), the earlier AccountDB's upload format ({id, user:{username,password}, email, vault, metadata, steamguard, prime, lock, perm_lock}), a row of its accounts table ({acc_id, acc_username, …}), or be a Steam Guard .maFile. A CSV whose header has the earlier system's dotted columns (user.username, …; its web UI's template too) or its accounts table's columns (acc_id, …: a psql CSV dump) is read as that format; the answer's format says which was read. Earlier flags become status and tags (perm_lock: disabled; lock: locked; prime: tag prime), metadata.createdAt/acc_created_at the created_at. A record whose external_id matches one of your accounts updates it; others are created. Bad records are reported by row (1-based; CSV: line number), each error naming the field as the record names it (user.username, acc_username, a .maFile's account_name; never the value), and the rest imported; the answer lists the first 100 errors and counts them all (errors_total, errors_truncated). dry_run=true checks everything and writes nothing. At most 20,000 records and 16 MiB per upload (400 too_many_records, 413): import more with `accountdb import`, which sends batches. A JSON upload that is not valid JSON writes nothing: 400 invalid_json as application/json, else one error. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          dry_run: boolean;
          /** @description Override the format detected from Content-Type and the content. legacy-csv and legacy-table-csv also require the CSV header to be of that kind (400 otherwise); legacy-json and legacy-table-json read every record in that shape. */
          format?:
            | 'json'
            | 'jsonl'
            | 'csv'
            | 'legacy-json'
            | 'legacy-table-json'
            | 'legacy-csv'
            | 'legacy-table-csv';
          /** @description Admins: import for this user */
          owner_id?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "dry_run": false,
             *       "format": "json",
             *       "total": 4,
             *       "created": 2,
             *       "updated": 1,
             *       "failed": 1,
             *       "errors": [
             *         {
             *           "row": 4,
             *           "message": "username is required"
             *         }
             *       ],
             *       "errors_total": 1,
             *       "errors_truncated": false,
             *       "ignored_fields": [],
             *       "ignored_fields_truncated": false
             *     }
             */
            'application/json': {
              created: number;
              dry_run: boolean;
              /** @description The first 100 errors, by row */
              errors: {
                message: string;
                row: number;
              }[];
              /** @description Every error, listed or not (equals failed) */
              errors_total: number;
              /** @description More errors than the list shows */
              errors_truncated: boolean;
              /** @description Records not imported, each with one error */
              failed: number;
              /** @description The format the upload was read in: json, jsonl or csv (AccountDB fields, .maFiles), or one of the earlier AccountDB's: legacy-json (its upload objects), legacy-table-json (rows of its accounts table), legacy-csv (its dotted-header upload CSV or template), legacy-table-csv (a CSV dump of its accounts table) */
              format: string;
              /** @description Fields the import read past instead of importing (keys of the earlier upload format it does not know; other formats refuse unknown fields as a record's error), so that a dry run shows what would be left behind. The first 50 names. */
              ignored_fields: {
                /** @description The field as the records name it (dotted for nested keys: metadata.note) */
                field: string;
                /** @description How many records had it */
                records: number;
              }[];
              /** @description More ignored fields than the list shows */
              ignored_fields_truncated: boolean;
              /** @description Records read: created + updated + failed */
              total: number;
              updated: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unsupported Media Type */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/accounts/import/mafiles': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Import Steam Guard files (a maFiles folder)
     * @description Imports Steam Guard files as their tools write them: Steam Desktop Authenticator .maFiles (older Session shape with a numeric SteamID, and the current one with AccessToken/RefreshToken), steamguard-cli (SDA's shape, and its current one with steam_id and tokens) and the Steam mobile app's v2 backup (steamid). Each file becomes one account: the SteamID is external_id (importing again updates the account), account_name the username, shared_secret/identity_secret/revocation_code its secrets, and the rest of the file (device_id, serial_number, session and tokens…) its encrypted steam_guard. Send manifest.json among the files (or as manifest) to import encrypted SDA files, with the passkey: each file is decrypted with its manifest entry's salt and IV (PBKDF2-HMAC-SHA1, 50,000 rounds, AES-256-CBC). All or nothing: with any file in error a real import writes nothing and answers 422 mafiles_refused naming each file; dry_run=true answers what would happen, errors included. 400 passkey_required / passkey_wrong name the encrypted file; 400 manifest_required: an encrypted file without its manifest entry. At most 500 files of 64 KiB each per request (`accountdb import accounts <folder>` sends larger folders in batches). Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          dry_run: boolean;
          /** @description Admins: import for this user */
          owner_id?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "files": [
           *         {
           *           "name": "maFiles/manifest.json",
           *           "content": "{\"encrypted\":true,\"entries\":[{\"encryption_iv\":\"ifChnv66eA+/dYqGsQMIOA==\",\"encryption_salt\":\"O2K8FAOWK9c=\",\"filename\":\"76561198000000300.maFile\",\"steamid\":76561198000000300}]}"
           *         },
           *         {
           *           "name": "maFiles/76561198000000300.maFile",
           *           "content": "ZQqJk4KW7pb5bndkra24…"
           *         }
           *       ],
           *       "passkey": "the SDA passkey"
           *     }
           */
          'application/json': {
            /** @description The .maFiles, and manifest.json when it is among them; at most 500 */
            files: {
              /** @description The file as it is on disk: JSON, or base64 ciphertext when encrypted */
              content: string;
              /** @description The file name (folders before it are ignored), e.g. 76561198000000000.maFile */
              name: string;
            }[];
            /** @description The text of maFiles/manifest.json, when not sent among the files */
            manifest?: string;
            /** @description The SDA passkey of encrypted files. Never logged, stored or echoed */
            passkey?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "dry_run": true,
             *       "total": 2,
             *       "created": 1,
             *       "updated": 0,
             *       "decrypted": 2,
             *       "failed": 1,
             *       "errors": [
             *         {
             *           "row": 3,
             *           "file": "maFiles/76561198000000301.maFile",
             *           "message": "shared_secret is 16 bytes; a Steam secret is 20 (…)"
             *         }
             *       ],
             *       "errors_total": 1,
             *       "errors_truncated": false
             *     }
             */
            'application/json': {
              created: number;
              /** @description Files decrypted with the passkey */
              decrypted: number;
              dry_run: boolean;
              /** @description The first 100 errors, by file */
              errors: {
                file: string;
                message: string;
                /** @description The file's 1-based position in files */
                row: number;
              }[];
              errors_total: number;
              errors_truncated: boolean;
              /** @description Files with an error (a dry run only: else 422) */
              failed: number;
              /** @description Steam Guard files read (the manifest not counted) */
              total: number;
              updated: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unsupported Media Type */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agent/config': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Agent configuration
     * @description What the node's agent should sync and how often. Answers an ETag; with If-None-Match of the same ETag, 304 and no body. Authenticated with the node key (Bearer adb_node_…).
     */
    get: {
      parameters: {
        query?: never;
        header?: {
          'if-none-match'?: string;
        };
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description What the agent should do; answered with an ETag (send If-None-Match to get 304 when unchanged) */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "node_id": "0194c3a2-0000-7000-8000-0000000000aa",
             *       "name": "pve1",
             *       "sync_mode": "all",
             *       "whitelist": [],
             *       "interval_s": 60,
             *       "sync_requested_at": null
             *     }
             */
            'application/json': {
              /** @description Seconds between sync cycles */
              interval_s: number;
              /** @description The Proxmox node name this agent syncs (PVE_NODE) */
              name: string;
              /** Format: uuid */
              node_id: string;
              sync_mode: 'all' | 'whitelist';
              /** @description A "Sync now" the owner asked for and no sync has served yet: an agent that has not served this one runs a cycle at once and sends it back as sync_request */
              sync_requested_at: string | null;
              /** @description VMIDs to sync in whitelist mode */
              whitelist: number[];
            };
          };
        };
        /** @description Unchanged since the ETag sent (no body) */
        304: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agent/heartbeat': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Report the agent's health
     * @description Marks the node as seen now (by the server's clock). status error with an error message shows the node as error until a later ok heartbeat or a successful sync; the agent sends it instead of a sync when Proxmox could not be read. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "status": "error",
           *       "error": "Proxmox answered 401: check PVE_TOKEN_ID/PVE_TOKEN_SECRET",
           *       "agent_version": "0.1.0"
           *     }
           */
          'application/json': {
            agent_version: string;
            /** @description What went wrong (never a secret) */
            error?: string;
            pve_version?: string;
            status: 'ok' | 'error';
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agent/sync': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Push the state of the node's guests
     * @description One transaction, serialised per node. complete=true means vms is every guest of the node: those missing are marked absent (never deleted) and come back when they reappear. Guests outside a whitelist are ignored and their VMIDs kept as skipped_vmids. A retry with the same cycle_id and body gets the same answer; the same cycle_id with another body is 409 cycle_conflict. A snapshot older than the last applied one changes nothing (stale: true). A complete sync with no guests while guests were known is treated as suspicious: nothing is marked absent and the node shows an error. Your notes and tags are never touched. At most 20,000 guests per sync (400 validation_error). Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 syncs of one node owner run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "cycle_id": "0194c3a2-1111-7000-8000-000000000001",
           *       "observed_at": "2026-11-24T12:00:00.000Z",
           *       "agent_version": "0.1.0",
           *       "pve_version": "8.4.1",
           *       "complete": true,
           *       "vms": [
           *         {
           *           "vmid": 101,
           *           "type": "qemu",
           *           "name": "farm-101",
           *           "status": "running",
           *           "template": false,
           *           "cpu_cores": 2,
           *           "memory_mb": 4096,
           *           "disk_gb": 32,
           *           "ip_addresses": [
           *             "10.0.0.101"
           *           ],
           *           "mac_addresses": [
           *             "BC:24:11:5E:0A:01"
           *           ],
           *           "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32",
           *           "tags": [
           *             "farm"
           *           ]
           *         }
           *       ]
           *     }
           */
          'application/json': {
            agent_version: string;
            /** @description true: vms is every guest of the node (missing ones become absent); false: only these guests */
            complete: boolean;
            /** @description Unique per cycle: a retry with the same id and body gets the same answer */
            cycle_id: string;
            /** @description How long the cycle took to read Proxmox and build this body (shown as the node's last cycle duration) */
            duration_ms?: number;
            /**
             * Format: date-time
             * @description When the agent read Proxmox (agent clock; only orders snapshots)
             */
            observed_at: string;
            pve_version?: string;
            /**
             * Format: date-time
             * @description The config's sync_requested_at this cycle serves: the request is cleared (unless a newer one came since)
             */
            sync_request?: string;
            vms: {
              cpu_cores?: number | null;
              cpu_usage?: number | null;
              description?: string | null;
              disk_gb?: number | null;
              ip_addresses?: string[];
              lock?: string | null;
              mac_addresses?: string[];
              mem_usage?: number | null;
              memory_mb?: number | null;
              name?: string | null;
              smbios_uuid?: string | null;
              /**
               * @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states".
               * @enum {unknown}
               */
              status:
                | 'running'
                | 'stopped'
                | 'paused'
                | 'suspended'
                | 'io-error'
                | 'migrating'
                | 'prelaunch'
                | 'internal-error'
                | 'unknown';
              /** @description Proxmox tags */
              tags?: string[];
              template?: boolean;
              type: 'qemu' | 'lxc';
              uptime_s?: number | null;
              vmid: number;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description Guests missing from this complete sync, now marked absent */
              absent: number;
              /** @description Guests new to AccountDB */
              created: number;
              /** @description Guests outside the whitelist (their VMIDs are kept as skipped_vmids) */
              ignored: number;
              /** @description Guests marked absent before that are back */
              returned: number;
              /** @description true: the snapshot is older than one already applied and changed nothing */
              stale: boolean;
              unchanged: number;
              /** @description Guests whose stored state changed */
              updated: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Audit log
     * @description What happened to your data and your account, newest first: writes, secret reveals (with the reason an admin gave for revealing yours), exports, logins, key rotations. An admin sees the same (their own data and what they did) unless scope=all: every user's entries, and those about no known user, such as failed logins with an unknown name; owner_id: one user's. Never contains a secret.
     */
    get: {
      parameters: {
        query: {
          /** @description Exact action, or a prefix ending in "." (account.) */
          action?: string;
          actor_id?: string;
          cursor?: string;
          entity_id?: string;
          entity_type?: string;
          limit: number;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          since?: string;
          until?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-9a00-7000-8000-000000000042",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "actor_type": "token",
             *           "actor_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "actor_name": "alice",
             *           "action": "account.reveal_secrets",
             *           "entity_type": "account",
             *           "entity_id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "entity_name": "farm_main_01",
             *           "at": "2026-11-24T12:00:00.000Z",
             *           "ip": "192.0.2.10",
             *           "request_id": "a24f33e0-e044-4fae-9650-5c4dcd4438bb",
             *           "details": {
             *             "fields": [
             *               "password",
             *               "shared_secret"
             *             ],
             *             "token_id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f"
             *           }
             *         }
             *       ],
             *       "next_cursor": null
             *     }
             */
            'application/json': {
              items: {
                /** @example account.reveal_secrets */
                action: string;
                actor_id: string | null;
                actor_name: string | null;
                /** @description user, token, node, anonymous or system */
                actor_type: string;
                /** Format: date-time */
                at: string;
                details: {
                  [key: string]: unknown;
                };
                entity_id: string | null;
                /** @description What the entity is called now (an account's username, a VM's name, a card's masked code…), if you can still see it; null once it is deleted or not yours to see */
                entity_name: string | null;
                entity_type: string | null;
                /** Format: uuid */
                id: string;
                ip: string | null;
                owner_id: string | null;
                request_id: string | null;
              }[];
              next_cursor: string | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in
     * @description Exchanges a username (or e-mail) and password for a 15-minute access token and a rotating refresh token (also set as an HttpOnly cookie). A user with a second factor (or without one where an admin requires it) gets instead `mfa_required: true` with a 5-minute single-use challenge for POST /auth/login/mfa. Wrong name and wrong password get the same 401. After 5 consecutive failures the name is locked with growing backoff (429 login_locked with Retry-After); attempts are also limited per IP and per name (429 rate_limited). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "username": "alice",
           *       "password": "correct horse battery staple"
           *     }
           */
          'application/json': {
            /** @example correct horse battery staple */
            password: string;
            /**
             * @description Username or e-mail address
             * @example alice
             */
            username: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json':
              | {
                  /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
                  access_token: string;
                  /** @description Seconds until the access token expires */
                  expires_in: number;
                  /** Format: date-time */
                  refresh_expires_at: string;
                  /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
                  refresh_token: string;
                  /** @enum {string} */
                  token_type: 'Bearer';
                  user: components['schemas']['User'];
                }
              | {
                  /** @description Signed, single-use token for the second step; valid for expires_in seconds */
                  challenge: string;
                  expires_in: number;
                  /** @description The second factors the user has (empty for enroll) */
                  methods: ('totp' | 'webauthn' | 'recovery_code')[];
                  /**
                   * @description The password was right; a second step finishes the login
                   * @enum {boolean}
                   */
                  mfa_required: true;
                  /** @description mfa: send a code to POST /auth/login/mfa. enroll: a second factor is required and the user has none: POST /auth/login/mfa/enroll for the secret and QR code, then the first code to POST /auth/login/mfa */
                  purpose: 'mfa' | 'enroll';
                };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/mfa': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in: the second step
     * @description Finishes a login that POST /auth/login answered with a challenge: a current 6-digit code of the authenticator app (a code is accepted once, one 30-second step either side of now) or an unused recovery code. For an enroll challenge the code is the first one of the app being set up (POST /auth/login/mfa/enroll); the answer then also carries the ten recovery codes, shown once. Answers like POST /auth/login (tokens and refresh cookie). A wrong code is a failed login: 401 invalid_second_factor, counted on the name's lockout and limits like a wrong password; 401 mfa_challenge_invalid for a used, expired or forged challenge (log in again). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description From POST /auth/login */
            challenge: string;
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
              access_token: string;
              /** @description Seconds until the access token expires */
              expires_in: number;
              /** @description Only when this step enrolled the first factor: ten one-time codes, shown once */
              recovery_codes?: string[];
              /** Format: date-time */
              refresh_expires_at: string;
              /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
              refresh_token: string;
              /** @enum {string} */
              token_type: 'Bearer';
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/mfa/enroll': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in: set up the required second factor
     * @description For a login that POST /auth/login answered with an enroll challenge (an admin requires a second factor and the user has none): a new authenticator-app secret, as base32, otpauth:// URI and QR code. Send the app's first code with the same challenge to POST /auth/login/mfa. Calling it again replaces the secret. 401 mfa_challenge_invalid for anything but an open enroll challenge. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "challenge": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjaWQiOiIwMTk0YzNhMiJ9.c2lnbmF0dXJl"
           *     }
           */
          'application/json': {
            /** @description From POST /auth/login */
            challenge: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
             *       "otpauth_uri": "otpauth://totp/AccountDB:alice?issuer=AccountDB&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
             *       "qr_code": "data:image/svg+xml;base64,PHN2Zz4uLi48L3N2Zz4="
             *     }
             */
            'application/json': {
              /** @description otpauth://totp/… (SHA-1, 6 digits, 30 s) */
              otpauth_uri: string;
              /** @description The URI as a QR code: an SVG image as a data: URL */
              qr_code: string;
              /** @description The seed in base32, for apps that cannot scan */
              secret: string;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/mfa/passkey': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in: the second step by passkey
     * @description Finishes a login with a passkey assertion for the options of POST /auth/login/mfa/passkey/options (challenge origin, RP ID, user verification, signature and signature counter are checked). Answers like POST /auth/login/mfa. A refused assertion is a failed login: 401 invalid_second_factor, counted on the name's lockout and limits like a wrong code; the WebAuthn challenge is used up either way (a replayed assertion is refused). A signature counter that did not grow (a cloned authenticator) is refused and audited as mfa.passkey.counter_regression. 401 mfa_challenge_invalid for a used, expired or forged login challenge. Limits: a body of at most 64 KiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "challenge": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjaWQiOiIwMTk0YzNhMiJ9.c2lnbmF0dXJl",
           *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
           *       "credential": {
           *         "id": "hB2d7Qn1mX0r4yPz9WcA3g",
           *         "rawId": "hB2d7Qn1mX0r4yPz9WcA3g",
           *         "type": "public-key",
           *         "response": {
           *           "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoicTJ4UW0zRjRtRmhWMW1ZMGIzZE43bVI2cDhzTDB0SmM5a1oxYVcyZVgzYyIsIm9yaWdpbiI6Imh0dHBzOi8vYWNjb3VudGRiLmV4YW1wbGUuY29tIn0",
           *           "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
           *           "signature": "MEUCIQDqD0Yx4h3nqgq0XkU2QmRzR1xZ5m0a9oQ2bX0bX1N3sAIgV8cT7tSxq2V8Jv1e7lq3sYk0yqS1u3nX8a9w0m2bQ1c",
           *           "userHandle": "AZTDonsffD6fGisrPE1ecA"
           *         },
           *         "clientExtensionResults": {},
           *         "authenticatorAttachment": "platform"
           *       }
           *     }
           */
          'application/json': {
            /** @description From POST /auth/login */
            challenge: string;
            /**
             * Format: uuid
             * @description challenge_id of the options this answers (single-use, 5 minutes)
             */
            challenge_id: string;
            /** @description The assertion as @simplewebauthn/browser startAuthentication() answers it */
            credential: {
              authenticatorAttachment?: 'platform' | 'cross-platform';
              /** @description getClientExtensionResults(), as the browser reports it */
              clientExtensionResults: {
                [key: string]: unknown;
              };
              /** @description The credential id, base64url (at most 1023 bytes) */
              id: string;
              /** @description The credential id, base64url (at most 1023 bytes) */
              rawId: string;
              response: {
                /** @description The authenticator data, base64url */
                authenticatorData: string;
                /** @description The client data, base64url */
                clientDataJSON: string;
                /** @description The signature, base64url */
                signature: string;
                /** @description The user handle, base64url */
                userHandle?: string;
              };
              /** @enum {string} */
              type: 'public-key';
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
              access_token: string;
              /** @description Seconds until the access token expires */
              expires_in: number;
              /** @description Only when this step enrolled the first factor: ten one-time codes, shown once */
              recovery_codes?: string[];
              /** Format: date-time */
              refresh_expires_at: string;
              /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
              refresh_token: string;
              /** @enum {string} */
              token_type: 'Bearer';
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/mfa/passkey/options': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log in: passkey options for the second step
     * @description For a login that POST /auth/login answered with an mfa challenge whose methods include webauthn: WebAuthn assertion options for the user's passkeys (for @simplewebauthn/browser startAuthentication()) and the challenge_id to send back with the answer to POST /auth/login/mfa/passkey. The WebAuthn challenge is stored server-side, valid 5 minutes, used once. 401 mfa_challenge_invalid for anything but an open mfa challenge of a user with a passkey. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "challenge": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjaWQiOiIwMTk0YzNhMiJ9.c2lnbmF0dXJl"
           *     }
           */
          'application/json': {
            /** @description From POST /auth/login */
            challenge: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
             *       "options": {
             *         "challenge": "q2xQm3F4mFhV1mY0b3dN7mR6p8sL0tJc9kZ1aW2eX3c",
             *         "rpId": "accountdb.example.com",
             *         "timeout": 300000,
             *         "userVerification": "required"
             *       }
             *     }
             */
            'application/json': {
              /**
               * Format: uuid
               * @description Send it back with the answer; the challenge is stored server-side and used once
               */
              challenge_id: string;
              /** @description PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (assertion), for @simplewebauthn/browser startRegistration() / startAuthentication() */
              options: {
                [key: string]: unknown;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/passkey': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Passwordless login
     * @description Logs in with a passkey assertion for the options of POST /auth/login/passkey/options: the passkey names its user; the attempt counts on that user's name like a password attempt (same per-name limit and lockout, 429 login_locked with Retry-After), and a pass answers like POST /auth/login (tokens and refresh cookie), with no second step (a passkey with user verification is two factors). 401 invalid_passkey for an unknown passkey, a wrong signature, user or signature counter (a counter that did not grow is audited as mfa.passkey.counter_regression); 401 passkey_challenge_invalid for an unknown, used or expired challenge_id (a replayed assertion). Limits: a body of at most 64 KiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
           *       "credential": {
           *         "id": "hB2d7Qn1mX0r4yPz9WcA3g",
           *         "rawId": "hB2d7Qn1mX0r4yPz9WcA3g",
           *         "type": "public-key",
           *         "response": {
           *           "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoicTJ4UW0zRjRtRmhWMW1ZMGIzZE43bVI2cDhzTDB0SmM5a1oxYVcyZVgzYyIsIm9yaWdpbiI6Imh0dHBzOi8vYWNjb3VudGRiLmV4YW1wbGUuY29tIn0",
           *           "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
           *           "signature": "MEUCIQDqD0Yx4h3nqgq0XkU2QmRzR1xZ5m0a9oQ2bX0bX1N3sAIgV8cT7tSxq2V8Jv1e7lq3sYk0yqS1u3nX8a9w0m2bQ1c",
           *           "userHandle": "AZTDonsffD6fGisrPE1ecA"
           *         },
           *         "clientExtensionResults": {},
           *         "authenticatorAttachment": "platform"
           *       }
           *     }
           */
          'application/json': {
            /**
             * Format: uuid
             * @description challenge_id of the options this answers (single-use, 5 minutes)
             */
            challenge_id: string;
            /** @description The assertion as @simplewebauthn/browser startAuthentication() answers it */
            credential: {
              authenticatorAttachment?: 'platform' | 'cross-platform';
              /** @description getClientExtensionResults(), as the browser reports it */
              clientExtensionResults: {
                [key: string]: unknown;
              };
              /** @description The credential id, base64url (at most 1023 bytes) */
              id: string;
              /** @description The credential id, base64url (at most 1023 bytes) */
              rawId: string;
              response: {
                /** @description The authenticator data, base64url */
                authenticatorData: string;
                /** @description The client data, base64url */
                clientDataJSON: string;
                /** @description The signature, base64url */
                signature: string;
                /** @description The user handle, base64url */
                userHandle?: string;
              };
              /** @enum {string} */
              type: 'public-key';
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
              access_token: string;
              /** @description Seconds until the access token expires */
              expires_in: number;
              /** Format: date-time */
              refresh_expires_at: string;
              /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
              refresh_token: string;
              /** @enum {string} */
              token_type: 'Bearer';
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/login/passkey/options': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Passwordless login: options
     * @description Starts a login with a passkey alone (no name typed: the browser offers the passkeys it holds for this site). WebAuthn assertion options with no allowCredentials, and the challenge_id to send back to POST /auth/login/passkey. The challenge is stored server-side, valid 5 minutes, used once. Limited per client address like POST /auth/login. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
             *       "options": {
             *         "challenge": "q2xQm3F4mFhV1mY0b3dN7mR6p8sL0tJc9kZ1aW2eX3c",
             *         "rpId": "accountdb.example.com",
             *         "timeout": 300000,
             *         "userVerification": "required"
             *       }
             *     }
             */
            'application/json': {
              /**
               * Format: uuid
               * @description Send it back with the answer; the challenge is stored server-side and used once
               */
              challenge_id: string;
              /** @description PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (assertion), for @simplewebauthn/browser startRegistration() / startAuthentication() */
              options: {
                [key: string]: unknown;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/logout': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Log out
     * @description Ends the login session of the refresh token sent (body or cookie) and/or of the access token in Authorization. Always 204; clears the refresh cookie. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Omit to use the refresh cookie (then X-AccountDB-CSRF: 1 is required) */
            refresh_token?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The current user
     * @description The authenticated user and how they authenticated (session or personal token, with scopes).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "user": {
             *         "id": "0194c3a2-0000-7000-8000-000000000001",
             *         "username": "alice",
             *         "email": "alice@example.com",
             *         "role": "user",
             *         "is_active": true,
             *         "failed_login_count": 0,
             *         "locked_until": null,
             *         "last_login_at": "2026-11-24T12:00:00.000Z",
             *         "created_at": "2026-11-20T08:00:00.000Z",
             *         "updated_at": "2026-11-24T12:00:00.000Z"
             *       },
             *       "auth": {
             *         "via": "token",
             *         "scopes": [
             *           "read"
             *         ],
             *         "token_id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f"
             *       }
             *     }
             */
            'application/json': {
              auth: {
                scopes: ('read' | 'write')[];
                session_id?: string;
                token_id?: string;
                /** @description session: logged in with a password; token: a personal access token */
                via: 'session' | 'token';
              };
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your second factors
     * @description Whether an authenticator app is set up (or waiting for its confirming code), how many recovery codes are left, and whether an admin requires a second factor. Never a secret.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "totp": {
             *         "enabled": true,
             *         "pending": false,
             *         "confirmed_at": "2026-12-06T20:00:00.000Z",
             *         "last_used_at": "2026-12-06T20:05:00.000Z"
             *       },
             *       "passkeys": 1,
             *       "recovery_codes_left": 9,
             *       "methods": [
             *         "totp",
             *         "webauthn",
             *         "recovery_code"
             *       ],
             *       "required": false
             *     }
             */
            'application/json': {
              methods: ('totp' | 'webauthn' | 'recovery_code')[];
              /** @description Registered passkeys (GET /auth/mfa/passkeys lists them) */
              passkeys: number;
              /** @description Unused recovery codes */
              recovery_codes_left: number;
              /** @description An admin requires a second factor of everyone */
              required: boolean;
              totp: {
                confirmed_at: string | null;
                /** @description An authenticator app is confirmed */
                enabled: boolean;
                last_used_at: string | null;
                /** @description An enrolment waits for its confirming code */
                pending: boolean;
              };
            };
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Turn the authenticator app off
     * @description Needs a fresh second factor in the same request: a current code of the app or an unused recovery code. Removes the app, and the recovery codes when no passkey is left (passkeys are removed one by one: POST /auth/mfa/passkeys/{id}/remove). Where an admin requires a second factor and none is left, the next login asks to set one up again. 400 invalid_second_factor for a wrong code. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "492039"
           *     }
           */
          'application/json': {
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/passkeys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Your passkeys
     * @description The passkeys you can log in with: name, whether the authenticator syncs or backs them up, when added and last used. Never a key or credential id.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71",
             *           "name": "Laptop (Touch ID)",
             *           "device_type": "multiDevice",
             *           "backed_up": true,
             *           "transports": [
             *             "internal",
             *             "hybrid"
             *           ],
             *           "created_at": "2026-12-06T20:00:00.000Z",
             *           "last_used_at": "2026-12-06T21:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              items: {
                /** @description The authenticator reports the passkey backed up */
                backed_up: boolean;
                /** Format: date-time */
                created_at: string;
                /** @description multiDevice: a synced passkey (the authenticator may back it up) */
                device_type: 'singleDevice' | 'multiDevice';
                /** Format: uuid */
                id: string;
                last_used_at: string | null;
                name: string;
                transports: string[];
              }[];
            };
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Add a passkey
     * @description Registers the credential startRegistration() made for the options of POST /auth/mfa/passkeys/options (attestation "none"; challenge, origin, RP ID, user presence and verification checked), under a name. When you already have a second factor, the request must carry a fresh one: `code` (app or recovery code) or `passkey` (an assertion for POST /auth/mfa/passkeys/verify-options). When it is your first second factor, the answer carries ten recovery codes, shown once, and from the next login on a passkey is asked after the password (or logs you in alone: POST /auth/login/passkey). Audited as mfa.passkey.add. 400 passkey_invalid for a refused credential or an unknown, used or expired challenge_id; 400 second_factor_required / invalid_second_factor; 409 passkey_exists for a credential registered already. Limits: a body of at most 64 KiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * Format: uuid
             * @description challenge_id of the options this answers (single-use, 5 minutes)
             */
            challenge_id: string;
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code?: string;
            /** @description The new credential as @simplewebauthn/browser startRegistration() answers it */
            credential: {
              authenticatorAttachment?: 'platform' | 'cross-platform';
              /** @description getClientExtensionResults(), as the browser reports it */
              clientExtensionResults: {
                [key: string]: unknown;
              };
              /** @description The credential id, base64url (at most 1023 bytes) */
              id: string;
              /** @description The credential id, base64url (at most 1023 bytes) */
              rawId: string;
              response: {
                /** @description The attestation object (CBOR), base64url */
                attestationObject: string;
                /** @description The authenticator data, base64url */
                authenticatorData?: string;
                /** @description The client data, base64url */
                clientDataJSON: string;
                /** @description The public key (SPKI), base64url */
                publicKey?: string;
                publicKeyAlgorithm?: number;
                /** @description Transports */
                transports?: string[];
              };
              /** @enum {string} */
              type: 'public-key';
            };
            /** @description A name to tell the passkey apart (1-100 characters, not only spaces, no control characters) */
            name: string;
            /** @description A fresh passkey assertion for the options of POST /auth/mfa/passkeys/verify-options */
            passkey?: {
              /**
               * Format: uuid
               * @description challenge_id of the options this answers (single-use, 5 minutes)
               */
              challenge_id: string;
              /** @description The assertion as @simplewebauthn/browser startAuthentication() answers it */
              credential: {
                authenticatorAttachment?: 'platform' | 'cross-platform';
                /** @description getClientExtensionResults(), as the browser reports it */
                clientExtensionResults: {
                  [key: string]: unknown;
                };
                /** @description The credential id, base64url (at most 1023 bytes) */
                id: string;
                /** @description The credential id, base64url (at most 1023 bytes) */
                rawId: string;
                response: {
                  /** @description The authenticator data, base64url */
                  authenticatorData: string;
                  /** @description The client data, base64url */
                  clientDataJSON: string;
                  /** @description The signature, base64url */
                  signature: string;
                  /** @description The user handle, base64url */
                  userHandle?: string;
                };
                /** @enum {string} */
                type: 'public-key';
              };
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "passkey": {
             *         "id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71",
             *         "name": "Laptop (Touch ID)",
             *         "device_type": "multiDevice",
             *         "backed_up": true,
             *         "transports": [
             *           "internal",
             *           "hybrid"
             *         ],
             *         "created_at": "2026-12-06T20:00:00.000Z",
             *         "last_used_at": "2026-12-06T21:00:00.000Z"
             *       }
             *     }
             */
            'application/json': {
              /**
               * @example {
               *       "id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71",
               *       "name": "Laptop (Touch ID)",
               *       "device_type": "multiDevice",
               *       "backed_up": true,
               *       "transports": [
               *         "internal",
               *         "hybrid"
               *       ],
               *       "created_at": "2026-12-06T20:00:00.000Z",
               *       "last_used_at": "2026-12-06T21:00:00.000Z"
               *     }
               */
              passkey: {
                /** @description The authenticator reports the passkey backed up */
                backed_up: boolean;
                /** Format: date-time */
                created_at: string;
                /** @description multiDevice: a synced passkey (the authenticator may back it up) */
                device_type: 'singleDevice' | 'multiDevice';
                /** Format: uuid */
                id: string;
                last_used_at: string | null;
                name: string;
                transports: string[];
              };
              /** @description Only when this passkey is the first second factor: ten one-time codes, shown once */
              recovery_codes?: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/passkeys/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Rename a passkey
     * @description Changes the name of one of your passkeys (audited as mfa.passkey.rename). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "name": "Laptop (Touch ID)"
           *     }
           */
          'application/json': {
            /** @description A name to tell the passkey apart (1-100 characters, not only spaces, no control characters) */
            name: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71",
             *       "name": "Laptop (Touch ID)",
             *       "device_type": "multiDevice",
             *       "backed_up": true,
             *       "transports": [
             *         "internal",
             *         "hybrid"
             *       ],
             *       "created_at": "2026-12-06T20:00:00.000Z",
             *       "last_used_at": "2026-12-06T21:00:00.000Z"
             *     }
             */
            'application/json': {
              /** @description The authenticator reports the passkey backed up */
              backed_up: boolean;
              /** Format: date-time */
              created_at: string;
              /** @description multiDevice: a synced passkey (the authenticator may back it up) */
              device_type: 'singleDevice' | 'multiDevice';
              /** Format: uuid */
              id: string;
              last_used_at: string | null;
              name: string;
              transports: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/auth/mfa/passkeys/{id}/remove': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Remove a passkey
     * @description Needs a fresh second factor in the same request, like turning the authenticator app off: `code` (app or recovery code) or `passkey` (an assertion for POST /auth/mfa/passkeys/verify-options; the passkey being removed may prove it). When no second factor is left, the recovery codes go too. Audited as mfa.passkey.remove. 404 for a passkey that is not yours. Limits: a body of at most 64 KiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "492039"
           *     }
           */
          'application/json': {
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code?: string;
            /** @description A fresh passkey assertion for the options of POST /auth/mfa/passkeys/verify-options */
            passkey?: {
              /**
               * Format: uuid
               * @description challenge_id of the options this answers (single-use, 5 minutes)
               */
              challenge_id: string;
              /** @description The assertion as @simplewebauthn/browser startAuthentication() answers it */
              credential: {
                authenticatorAttachment?: 'platform' | 'cross-platform';
                /** @description getClientExtensionResults(), as the browser reports it */
                clientExtensionResults: {
                  [key: string]: unknown;
                };
                /** @description The credential id, base64url (at most 1023 bytes) */
                id: string;
                /** @description The credential id, base64url (at most 1023 bytes) */
                rawId: string;
                response: {
                  /** @description The authenticator data, base64url */
                  authenticatorData: string;
                  /** @description The client data, base64url */
                  clientDataJSON: string;
                  /** @description The signature, base64url */
                  signature: string;
                  /** @description The user handle, base64url */
                  userHandle?: string;
                };
                /** @enum {string} */
                type: 'public-key';
              };
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/passkeys/options': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Start adding a passkey
     * @description WebAuthn registration options (a discoverable credential with user verification, your existing passkeys excluded) for @simplewebauthn/browser startRegistration(), and the challenge_id to send back with the new credential to POST /auth/mfa/passkeys. The challenge is stored server-side, valid 5 minutes, used once. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
             *       "options": {
             *         "challenge": "q2xQm3F4mFhV1mY0b3dN7mR6p8sL0tJc9kZ1aW2eX3c",
             *         "rpId": "accountdb.example.com",
             *         "timeout": 300000,
             *         "userVerification": "required"
             *       }
             *     }
             */
            'application/json': {
              /**
               * Format: uuid
               * @description Send it back with the answer; the challenge is stored server-side and used once
               */
              challenge_id: string;
              /** @description PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (assertion), for @simplewebauthn/browser startRegistration() / startAuthentication() */
              options: {
                [key: string]: unknown;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/passkeys/verify-options': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Prove a passkey before a change
     * @description WebAuthn assertion options for your passkeys and a challenge_id: the answer, sent as `passkey` ({challenge_id, credential}) in a change that needs a fresh second factor (adding or removing a passkey), proves it instead of a code. 409 no_passkeys when you have none. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': Record<string, never>;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "challenge_id": "0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70",
             *       "options": {
             *         "challenge": "q2xQm3F4mFhV1mY0b3dN7mR6p8sL0tJc9kZ1aW2eX3c",
             *         "rpId": "accountdb.example.com",
             *         "timeout": 300000,
             *         "userVerification": "required"
             *       }
             *     }
             */
            'application/json': {
              /**
               * Format: uuid
               * @description Send it back with the answer; the challenge is stored server-side and used once
               */
              challenge_id: string;
              /** @description PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (assertion), for @simplewebauthn/browser startRegistration() / startAuthentication() */
              options: {
                [key: string]: unknown;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/recovery-codes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * New recovery codes
     * @description Needs a fresh second factor in the same request (a current code or an unused recovery code). Answers ten new one-time codes, shown once; the earlier ones stop working. 400 invalid_second_factor for a wrong code. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "492039"
           *     }
           */
          'application/json': {
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "recovery_codes": [
             *         "k7qm-2xva-p4re-nt6d",
             *         "a3hw-bq7z-m2kc-xe5t",
             *         "r6ny-d4gs-w3fp-j2la",
             *         "tq5e-h7mb-c2xv-k4ud",
             *         "z3wr-n6pq-e5ya-b7gk",
             *         "m4tc-x2jd-q7hn-v3rs",
             *         "f5ke-a3zw-t6bm-p2qy",
             *         "y2gd-r4nc-k5vx-h7et",
             *         "c6pa-m3ty-w2qe-d5jz",
             *         "x7hb-v4ks-n3rg-a6mw"
             *       ]
             *     }
             */
            'application/json': {
              /** @description Ten one-time codes, shown once: store them somewhere safe */
              recovery_codes: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/totp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Start setting up an authenticator app
     * @description A new TOTP secret (SHA-1, 6 digits, 30 s) as base32, otpauth:// URI and QR code. It counts only once confirmed with a current code (POST /auth/mfa/totp/confirm); calling this again replaces an unconfirmed one. 409 mfa_already_enabled while one is confirmed. A user who has passkeys sends a fresh second factor with it (`passkey`, an assertion for POST /auth/mfa/passkeys/verify-options, or `code`, a recovery code): 400 second_factor_required / invalid_second_factor otherwise. No body otherwise. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "492039"
           *     }
           */
          'application/json': {
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code?: string;
            /** @description A fresh passkey assertion for the options of POST /auth/mfa/passkeys/verify-options */
            passkey?: {
              /**
               * Format: uuid
               * @description challenge_id of the options this answers (single-use, 5 minutes)
               */
              challenge_id: string;
              /** @description The assertion as @simplewebauthn/browser startAuthentication() answers it */
              credential: {
                authenticatorAttachment?: 'platform' | 'cross-platform';
                /** @description getClientExtensionResults(), as the browser reports it */
                clientExtensionResults: {
                  [key: string]: unknown;
                };
                /** @description The credential id, base64url (at most 1023 bytes) */
                id: string;
                /** @description The credential id, base64url (at most 1023 bytes) */
                rawId: string;
                response: {
                  /** @description The authenticator data, base64url */
                  authenticatorData: string;
                  /** @description The client data, base64url */
                  clientDataJSON: string;
                  /** @description The signature, base64url */
                  signature: string;
                  /** @description The user handle, base64url */
                  userHandle?: string;
                };
                /** @enum {string} */
                type: 'public-key';
              };
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
             *       "otpauth_uri": "otpauth://totp/AccountDB:alice?issuer=AccountDB&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
             *       "qr_code": "data:image/svg+xml;base64,PHN2Zz4uLi48L3N2Zz4="
             *     }
             */
            'application/json': {
              /** @description otpauth://totp/… (SHA-1, 6 digits, 30 s) */
              otpauth_uri: string;
              /** @description The URI as a QR code: an SVG image as a data: URL */
              qr_code: string;
              /** @description The seed in base32, for apps that cannot scan */
              secret: string;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/mfa/totp/confirm': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Confirm the authenticator app
     * @description A current code of the app being set up turns it on and answers ten one-time recovery codes, shown once (earlier ones stop working). From the next login on, a code is asked after the password. 400 invalid_second_factor for a wrong code; 409 mfa_not_pending when no setup waits. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "492039"
           *     }
           */
          'application/json': {
            /** @description A current 6-digit code of the authenticator app, or an unused recovery code (abcd-efgh-ijkl-mnop) */
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "recovery_codes": [
             *         "k7qm-2xva-p4re-nt6d",
             *         "a3hw-bq7z-m2kc-xe5t",
             *         "r6ny-d4gs-w3fp-j2la",
             *         "tq5e-h7mb-c2xv-k4ud",
             *         "z3wr-n6pq-e5ya-b7gk",
             *         "m4tc-x2jd-q7hn-v3rs",
             *         "f5ke-a3zw-t6bm-p2qy",
             *         "y2gd-r4nc-k5vx-h7et",
             *         "c6pa-m3ty-w2qe-d5jz",
             *         "x7hb-v4ks-n3rg-a6mw"
             *       ]
             *     }
             */
            'application/json': {
              /** @description Ten one-time codes, shown once: store them somewhere safe */
              recovery_codes: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Change your password
     * @description Needs the current password. Ends every other login session of the user; this one stays. Not available to personal access tokens. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "current_password": "correct horse battery staple",
           *       "new_password": "an even longer passphrase"
           *     }
           */
          'application/json': {
            current_password: string;
            /**
             * @description Password or passphrase, 12-1024 characters, no composition rules
             * @example correct horse battery staple
             */
            new_password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/refresh': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Rotate the refresh token
     * @description Returns a new access token and a new refresh token; the one sent is used up. Sending a used refresh token again (after a 10-second grace for lost responses) ends that whole login session: 401 refresh_token_reused. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Omit to use the refresh cookie (then X-AccountDB-CSRF: 1 is required) */
            refresh_token?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
              access_token: string;
              /** @description Seconds until the access token expires */
              expires_in: number;
              /** Format: date-time */
              refresh_expires_at: string;
              /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
              refresh_token: string;
              /** @enum {string} */
              token_type: 'Bearer';
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/register': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Register (when open)
     * @description Creates a user with the user role. Only when ACCOUNTDB_REGISTRATION=open; 403 registration_closed otherwise. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "username": "admin",
           *       "email": "admin@example.com",
           *       "password": "correct horse battery staple"
           *     }
           */
          'application/json': {
            /**
             * Format: email
             * @description E-mail address; unique ignoring case
             * @example alice@example.com
             */
            email: string;
            /**
             * @description Password or passphrase, 12-1024 characters, no composition rules
             * @example correct horse battery staple
             */
            password: string;
            /**
             * @description Login name: 3-64 letters, digits, dot, dash or underscore; unique ignoring case
             * @example alice
             */
            username: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/auth/setup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Is first-admin setup needed?
     * @description true while no user exists; the first visitor then creates the admin with POST /auth/setup. Limited to 120 calls a minute per client address (429 rate_limited).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "needed": true,
             *       "registration_open": false
             *     }
             */
            'application/json': {
              /** @description true until the first admin exists */
              needed: boolean;
              /** @description Whether POST /auth/register is available */
              registration_open: boolean;
            };
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create the first admin
     * @description Creates the first user, with the admin role, and logs them in. Refused with 409 once any user exists. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "username": "admin",
           *       "email": "admin@example.com",
           *       "password": "correct horse battery staple"
           *     }
           */
          'application/json': {
            /**
             * Format: email
             * @description E-mail address; unique ignoring case
             * @example alice@example.com
             */
            email: string;
            /**
             * @description Password or passphrase, 12-1024 characters, no composition rules
             * @example correct horse battery staple
             */
            password: string;
            /**
             * @description Login name: 3-64 letters, digits, dot, dash or underscore; unique ignoring case
             * @example alice
             */
            username: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description JWT for Authorization: Bearer; valid for expires_in seconds */
              access_token: string;
              /** @description Seconds until the access token expires */
              expires_in: number;
              /** Format: date-time */
              refresh_expires_at: string;
              /** @description Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie) */
              refresh_token: string;
              /** @enum {string} */
              token_type: 'Bearer';
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List cards
     * @description Redeemable cards. Codes are stored encrypted and shown masked; GET /cards/{id} shows them (audited). Find a card by its code with POST /cards/lookup (the code in the body, never in a URL). Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, `q` lists the best matches first. `total` is null unless `count=true` is asked, the first page holds every match, or `q` is the only filter (the search counts its matches anyway).
     */
    get: {
      parameters: {
        query: {
          account_id?: string;
          /** @description true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match. */
          count?: boolean;
          currency?: string;
          /** @description next_cursor of the previous page */
          cursor?: string;
          expired?: boolean;
          /** @description Page size */
          limit: number;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the card's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /** @description Comma-separated fields, "-" for descending. Allowed: created_at, updated_at, status, value, expires_at. Default created_at. */
          sort?: string;
          /** @description available → claimed (a lease) → redeemed or failed; a lapsed lease is available again; disabled: kept aside */
          status?: 'available' | 'claimed' | 'redeemed' | 'failed' | 'disabled';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "code_hint": "••••••••DDDD",
             *           "has_code2": false,
             *           "status": "available",
             *           "failure_reason": null,
             *           "claimed_by": null,
             *           "claimed_until": null,
             *           "redeemed_at": null,
             *           "account_id": null,
             *           "value": 20,
             *           "currency": "EUR",
             *           "expires_at": null,
             *           "tags": [
             *             "batch-7"
             *           ],
             *           "notes": null,
             *           "created_at": "2026-11-24T12:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": "WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd",
             *       "total": 120
             *     }
             */
            'application/json': {
              items: components['schemas']['Card'][];
              /** @description Pass as cursor for the next page; null on the last */
              next_cursor: string | null;
              /** @description Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted). */
              total: number | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a card
     * @description Creates a card. Answers 201 with the object, its ETag and Location. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            /**
             * @description Card code, stored encrypted
             * @example AAAA-BBBB-CCCC-DDDD
             */
            code1: string;
            code2?: string | null;
            currency?: string | null;
            expires_at?: string | null;
            notes?: string | null;
            /**
             * Format: uuid
             * @description Admins: create the object for this user (default: yourself)
             */
            owner_id?: string;
            /** @description New cards are available unless disabled */
            status?: 'available' | 'disabled';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            value?: number | null;
          };
        };
      };
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a card
     * @description One card with its ETag (send it back in If-Match to update safely). Another user's card answers 404; an admin reads it (a direct link works whatever the list scope), and it then carries its owner. This answer reveals secrets (audited): another user's card is revealed to an admin only with a reason, and answers as lists show it (masked, not audited) without one.
     */
    get: {
      parameters: {
        query?: {
          /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
          reason?: string;
        };
        header?: never;
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a card
     * @description Deletes the card; links pointing at it are cleared. With If-Match, a stale ETag answers 412.
     */
    delete: {
      parameters: {
        query?: never;
        header?: {
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update a card
     * @description Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: {
          /** @description ETag from a GET */
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            /**
             * @description Card code, stored encrypted
             * @example AAAA-BBBB-CCCC-DDDD
             */
            code1?: string;
            code2?: string | null;
            currency?: string | null;
            expires_at?: string | null;
            failure_reason?: string | null;
            notes?: string | null;
            /** @description available → claimed (a lease) → redeemed or failed; a lapsed lease is available again; disabled: kept aside */
            status?: 'available' | 'claimed' | 'redeemed' | 'failed' | 'disabled';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            value?: number | null;
          };
        };
      };
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/cards/{id}/fail': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Mark a card failed
     * @description From available or claimed: the card did not redeem; the reason is kept. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "reason": "Code already used"
           *     }
           */
          'application/json': {
            reason: string;
          };
        };
      };
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/{id}/redeem': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Mark a card redeemed
     * @description From available or claimed: the card is redeemed now, optionally onto one of your accounts. 409 when it is redeemed, failed or disabled. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "account_id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f"
           *     }
           */
          'application/json': {
            /** Format: uuid */
            account_id?: string;
          };
        };
      };
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/{id}/release': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Release a claimed card
     * @description Ends the lease: the card is available again. 409 when it is not claimed. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/bulk': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create many cards
     * @description Creates up to 10000 cards in one transaction. Each item is validated like POST /cards. When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row (errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the failed ones reported. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          /** @description Write the valid items even when some fail */
          partial: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "code1": "AAAA-BBBB-CCCC-DDDD",
           *           "value": 20,
           *           "currency": "EUR",
           *           "tags": [
           *             "batch-7"
           *           ]
           *         },
           *         {
           *           "code1": "X9Q2-7TZL-M4KD",
           *           "code2": "4711",
           *           "value": 50,
           *           "currency": "USD",
           *           "expires_at": "2027-06-30T23:59:59.000Z"
           *         }
           *       ]
           *     }
           */
          'application/json': {
            items: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              created: number;
              errors: {
                errors: {
                  message: string;
                  path: string;
                }[];
                /** @description 0-based item index */
                row: number;
              }[];
              failed: number;
              /** @description Ids of the created objects, in item order */
              ids: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/bulk-delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Delete many cards
     * @description Deletes up to 10000 listed cards in one transaction. Ids that do not exist (or are not yours) are reported in not_found. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "ids": [
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
           *       ]
           *     }
           */
          'application/json': {
            ids: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: number;
              not_found: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/claim': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Claim a card
     * @description Leases one available card (optionally of a currency, a minimum value or with tags) to the caller for lease_seconds and answers it with its codes (audited). Concurrent claimers never get the same card; unexpired cards expiring soonest go first. A lapsed lease makes the card available again. 404 nothing_to_claim when none is free. An admin claiming one of another user's cards (owner_id) gives a reason (400 reason_required before anything is leased), written to the audit entry that user reads. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "lease_seconds": 300,
           *       "claimed_by": "redeemer-1",
           *       "filter": {
           *         "currency": "EUR",
           *         "min_value": 20
           *       }
           *     }
           */
          'application/json': {
            claimed_by?: string;
            filter?: {
              currency?: string;
              min_value?: number;
              /**
               * @description Free labels; trimmed, duplicates dropped (case-insensitive)
               * @example [
               *       "prime",
               *       "eu"
               *     ]
               */
              tags?: string[];
            };
            /** @default 600 */
            lease_seconds: number;
            /**
             * Format: uuid
             * @description Admins: claim one of this user's cards
             */
            owner_id?: string;
            /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
            reason?: string;
          };
        };
      };
      responses: {
        /** @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked. */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export cards
     * @description Streams every card matching the list filters as CSV or a JSON array (same fields as the API). Audited. With include_codes=true the codes are included in clear; the export is audited as such. A row that cannot be read in the first 1000 fails the request (problem answer). One that fails later, once the file has started, ends it with an error so it never passes for complete: JSON gets a last line {"accountdb_export_error": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last record "EXPORT FAILED: …" with one field more than the header. The HTTP trailer x-export-status says ok or failed. At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    get: {
      parameters: {
        query: {
          account_id?: string;
          currency?: string;
          expired?: boolean;
          /** @description csv or json: the fields of the API; legacy-json: the earlier AccountDB card body, a list of [code1] or [code1, code2] lists (needs include_codes=true).; legacy-csv: the earlier cards table as psql writes it (`code1,code2,redeemed,failed,lock,perm_lock`; t/f, NULL empty, '' as ""; values exact, not defused against spreadsheet formulas; needs include_codes=true). */
          format: 'csv' | 'json' | 'legacy-json' | 'legacy-csv';
          /** @description Include the codes in clear (audited) */
          include_codes: boolean;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the card's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Required when an admin reveals another user's secret: why (1–500 printable characters). Written to the audit entry the owner sees; not needed for your own objects. */
          reason?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          sort?: string;
          /** @description available → claimed (a lease) → redeemed or failed; a lapsed lease is available again; disabled: kept aside */
          status?: 'available' | 'claimed' | 'redeemed' | 'failed' | 'disabled';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The export, sent as a file download */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Card'][];
            'text/csv': string;
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/import': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Import cards
     * @description Plain text (text/plain or text/csv), one card a line: `code1` or `code1,code2`. Blank lines and lines starting with # are skipped. The earlier AccountDB's formats are read too: its card body as application/json, a list of lists of 1 or 2 codes (`[["CODE1","CODE2"],["CODE1"]]`); a dump of its cards table as CSV (psql `\copy cards TO … CSV HEADER`, told by its header `id,code1,code2,redeemed,failed,lock,perm_lock,owner_id`, any of those columns with code1) or as a JSON array of row objects. Table rows map redeemed, failed (the message), lock and perm_lock onto status, failure_reason and tags (docs/api.md); their id and owner_id are not kept. Rows and lines are numbered from 1 (JSON: the element). Codes you already have, or that repeat in the upload, are counted as duplicates and skipped, except that a table row whose code you have with other flags updates that card's status (updated). value, currency, tags and expires_at apply to every imported card. A JSON upload that is not valid JSON writes nothing (400). dry_run=true checks everything and writes nothing. The answer lists the first 100 errors and counts them all (errors_total, errors_truncated). At most 20,000 cards and 16 MiB per upload (400 too_many_records, 413): import more with `accountdb import`. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          currency?: string;
          dry_run: boolean;
          expires_at?: string;
          /** @description Admins: import for this user */
          owner_id?: string;
          tags?: string | string[];
          value?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json':
            | string
            | string[][]
            | {
                code1: string;
                code2?: string | null;
                failed?: string | null;
                id?: number;
                lock?: boolean | string;
                owner_id?: number | null;
                perm_lock?: boolean | string;
                redeemed?: boolean | string;
              }[];
          'text/csv':
            | string
            | string[][]
            | {
                code1: string;
                code2?: string | null;
                failed?: string | null;
                id?: number;
                lock?: boolean | string;
                owner_id?: number | null;
                perm_lock?: boolean | string;
                redeemed?: boolean | string;
              }[];
          'text/plain':
            | string
            | string[][]
            | {
                code1: string;
                code2?: string | null;
                failed?: string | null;
                id?: number;
                lock?: boolean | string;
                owner_id?: number | null;
                perm_lock?: boolean | string;
                redeemed?: boolean | string;
              }[];
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "dry_run": false,
             *       "format": "lines",
             *       "total": 5,
             *       "created": 3,
             *       "updated": 0,
             *       "duplicates": 1,
             *       "failed": 1,
             *       "errors": [
             *         {
             *           "row": 6,
             *           "message": "has 3 fields; expected code1[,code2]"
             *         }
             *       ],
             *       "errors_total": 1,
             *       "errors_truncated": false
             *     }
             */
            'application/json': {
              created: number;
              dry_run: boolean;
              /** @description Codes you had, or that repeat in the upload */
              duplicates: number;
              /** @description The first 100 errors, by line */
              errors: {
                message: string;
                row: number;
              }[];
              /** @description Every error, listed or not (equals failed) */
              errors_total: number;
              /** @description More errors than the list shows */
              errors_truncated: boolean;
              /** @description Lines not imported, each with one error */
              failed: number;
              /** @description What the upload was read as: lines (one card a line), table-csv (a dump of the earlier cards table), codes-json (the earlier card body, lists of codes), table-json (the earlier table rows as JSON) */
              format: 'lines' | 'table-csv' | 'codes-json' | 'table-json';
              /** @description Cards read: created + updated + duplicates + failed */
              total: number;
              /** @description Earlier table rows whose code you had with other flags: that card updated */
              updated: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unsupported Media Type */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/cards/lookup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Find cards by code
     * @description The cards whose code1 or code2 is the code in the body (exact, ignoring case, spaces and dashes), found through a keyed hash of the code (blind index); the code is never compared or stored in clear. The code travels in the body, never in a URL, so it reaches no access log or browser history. Answers the cards as lists show them (codes masked, not audited: GET /cards/{id} reveals and audits), oldest first; total counts every match. Everyone searches their own cards; an admin every user's with scope=all, or one user's with owner_id (each card then carries its owner). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "code": "AAAA-BBBB-CCCC-DDDD"
           *     }
           */
          'application/json': {
            /** @description The exact code (code1 or code2); case, spaces and dashes do not matter */
            code: string;
            /**
             * @description At most this many cards in items (total counts them all)
             * @default 50
             */
            limit?: number;
            /**
             * Format: uuid
             * @description Admins: only this user's objects (implies scope=all)
             */
            owner_id?: string;
            /**
             * @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user.
             * @enum {string}
             */
            scope?: 'all';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [],
             *       "total": 0
             *     }
             */
            'application/json': {
              items: components['schemas']['Card'][];
              /** @description Cards matching the code */
              total: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/dashboard': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Dashboard
     * @description Counts by status for accounts, cards, VMs and nodes, node health with freshness of the last sync, and the most recent audit entries, of your own inventory: an admin's too, unless scope=all (every user's).
     */
    get: {
      parameters: {
        query?: {
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "accounts": {
             *         "total": 120,
             *         "by_status": {
             *           "active": 104,
             *           "locked": 6,
             *           "disabled": 2,
             *           "banned": 8
             *         },
             *         "claimed": 12
             *       },
             *       "cards": {
             *         "total": 40,
             *         "by_status": {
             *           "available": 25,
             *           "claimed": 3,
             *           "redeemed": 10,
             *           "failed": 1,
             *           "disabled": 1
             *         }
             *       },
             *       "vms": {
             *         "total": 96,
             *         "by_status": {
             *           "running": 80,
             *           "stopped": 13,
             *           "paused": 0,
             *           "suspended": 1,
             *           "io-error": 0,
             *           "migrating": 0,
             *           "prelaunch": 0,
             *           "internal-error": 0,
             *           "unknown": 2
             *         },
             *         "absent": 1,
             *         "templates": 2
             *       },
             *       "hardware": {
             *         "total": 96
             *       },
             *       "nodes": {
             *         "total": 1,
             *         "by_status": {
             *           "pending": 0,
             *           "online": 1,
             *           "stale": 0,
             *           "error": 0,
             *           "offline": 0
             *         },
             *         "items": [
             *           {
             *             "id": "0194c3a2-0000-7000-8000-0000000000aa",
             *             "name": "pve1",
             *             "status": "online",
             *             "last_seen_at": "2026-11-24T12:00:00.000Z",
             *             "last_sync_at": "2026-11-24T12:00:00.000Z",
             *             "last_error": null,
             *             "sync_age_s": 42,
             *             "last_cycle": {
             *               "outcome": "ok",
             *               "error": null,
             *               "duration_ms": 850
             *             }
             *           }
             *         ]
             *       },
             *       "recent_activity": [
             *         {
             *           "action": "account.claim",
             *           "entity_type": "account",
             *           "entity_id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "actor_name": "alice",
             *           "at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              accounts: {
                /** @description Count per status */
                by_status: {
                  [key: string]: number;
                };
                claimed: number;
                total: number;
              };
              cards: {
                /** @description Count per status */
                by_status: {
                  [key: string]: number;
                };
                total: number;
              };
              hardware: {
                total: number;
              };
              nodes: {
                /** @description Count per status */
                by_status: {
                  [key: string]: number;
                };
                items: {
                  /** Format: uuid */
                  id: string;
                  /** @description The agent's last cycle: error (with the agent's message) when it reported one since its last sync, else ok; null before the first report */
                  last_cycle: {
                    /** @description How long the last applied sync's cycle took on the agent (null: not reported) */
                    duration_ms: number | null;
                    error: string | null;
                    outcome: 'ok' | 'error';
                  } | null;
                  last_error: string | null;
                  last_seen_at: string | null;
                  last_sync_at: string | null;
                  name: string;
                  status: string;
                  /** @description Seconds since the last sync */
                  sync_age_s: number | null;
                }[];
                total: number;
              };
              recent_activity: {
                action: string;
                actor_name: string | null;
                /** Format: date-time */
                at: string;
                entity_id: string | null;
                entity_type: string | null;
              }[];
              vms: {
                absent: number;
                /** @description Count per status */
                by_status: {
                  [key: string]: number;
                };
                templates: number;
                total: number;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Live updates (server-sent events)
     * @description A text/event-stream of status changes of your VMs and Proxmox nodes, within moments of the sync that made them. `event: vm` and `event: node` carry JSON data `{owner_id, type, id, status}`; when one sync changed more than 100 VMs of an owner, one `vm` event with `id: null` and `count` stands for them all. `event: resync` means events may have been missed (the API lost its database connection for a while): refetch what you show. Lines starting with `:` are heartbeats every 15 s. You get your own events only; an admin too, unless scope=all (every user's) or owner_id (one user's), as lists do. At most 5 open streams per user (429 too_many_streams); a client that does not read (64 KiB unread) is disconnected and should reconnect and refetch. A stream ends after 5 minutes (reconnect: the caller is authenticated again, so a logout or deactivation reaches open streams). Events say what changed, not the new data: fetch the objects through their endpoints.
     */
    get: {
      parameters: {
        query?: {
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The event stream (text/event-stream), open until the client or the server closes it */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': string;
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': components['schemas']['Problem'];
          };
        };
        /** @description Service Unavailable */
        503: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/event-stream': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/grants': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List shares
     * @description The shares you made (direction=given, default) or that other users made to you (direction=received), newest first, optionally of one object.
     */
    get: {
      parameters: {
        query: {
          /** @description given: the shares you made; received: the shares made to you */
          direction: 'given' | 'received';
          /** @description At most this many, newest first */
          limit: number;
          /** @description Only the grants of this object */
          object_id?: string;
          /** @description proxmox_node (the node and every VM on it), vm or account */
          object_type?: 'proxmox_node' | 'vm' | 'account';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-0000-7000-8000-0000000000f1",
             *           "object_type": "vm",
             *           "object_id": "0194c3a2-0000-7000-8000-0000000000b1",
             *           "object_name": "farm-01",
             *           "owner": {
             *             "id": "0194c3a2-0000-7000-8000-000000000001",
             *             "username": "alice"
             *           },
             *           "grantee": {
             *             "id": "0194c3a2-0000-7000-8000-000000000002",
             *             "username": "bob"
             *           },
             *           "permission": "read",
             *           "secrets": false,
             *           "created_at": "2026-12-06T12:00:00.000Z",
             *           "updated_at": "2026-12-06T12:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              /** @description Newest first */
              items: components['schemas']['Grant'][];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Share an object
     * @description Shares one of your Proxmox nodes (with every VM on it), VMs or accounts with another user, read or read-write; an account optionally with its secrets. The grantee sees it at their next request, marked shared_by. Audited in both users' logs (grant.create). 404 when the object is not yours or no active user has that username; 409 grant_exists when it is already shared with them (change it with PATCH); 422 too_many_grants beyond 100 grants on one object. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The username of the user to share with (case-insensitive; an active user) */
            grantee: string;
            /**
             * Format: uuid
             * @description One of your own objects
             */
            object_id: string;
            /** @description proxmox_node (the node and every VM on it), vm or account */
            object_type: 'proxmox_node' | 'vm' | 'account';
            /** @description read: the grantee sees the object; write: the grantee may also change it (never delete it, move it to another owner or share it again) */
            permission?: 'read' | 'write';
            /** @description Accounts only: the grantee may read the password and 2FA secrets and get live codes (default false) */
            secrets?: boolean;
          };
        };
      };
      responses: {
        /** @description A share of one object with one other user */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Grant'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/grants/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Revoke or leave a share
     * @description The owner revokes a share; the grantee may also leave it. Takes effect at the next request. Audited in both users' logs (grant.delete, with left: true when the grantee left). Another user's grant answers 404.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Grant id
           * @example 0194c3a2-0000-7000-8000-0000000000f1
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Change a share
     * @description Changes a share you made: its permission and (accounts) secrets flag. Takes effect at the grantee's next request. Audited in both users' logs (grant.update). The grantee gets 403 owner_only; another user's grant answers 404. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Grant id
           * @example 0194c3a2-0000-7000-8000-0000000000f1
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "permission": "write"
           *     }
           */
          'application/json': {
            /** @description read: the grantee sees the object; write: the grantee may also change it (never delete it, move it to another owner or share it again) */
            permission?: 'read' | 'write';
            /** @description Accounts only */
            secrets?: boolean;
          };
        };
      };
      responses: {
        /** @description A share of one object with one other user */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Grant'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/hardware': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List hardware
     * @description Hardware profiles: BIOS, disk, motherboard, SMBIOS UUID, MAC and Windows identifiers, optionally linked to an account and a VM. Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, `q` lists the best matches first. `total` is null unless `count=true` is asked, the first page holds every match, or `q` is the only filter (the search counts its matches anyway).
     */
    get: {
      parameters: {
        query: {
          account_id?: string;
          /** @description true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match. */
          count?: boolean;
          /** @description next_cursor of the previous page */
          cursor?: string;
          external_id?: string;
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          hwprofile_guid?: string;
          /** @description Page size */
          limit: number;
          /** @description true: linked to an account or VM; false: linked to neither */
          linked?: boolean;
          /**
           * @description MAC address in any common spelling; stored as AA:BB:CC:DD:EE:FF
           * @example BC:24:11:5E:0A:01
           */
          mac_address?: string;
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          machine_guid?: string;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the hardware's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          smbios_uuid?: string;
          /** @description Comma-separated fields, "-" for descending. Allowed: created_at, updated_at, pcname, mac_address, mb_product. Default created_at. */
          sort?: string;
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          /**
           * @description Any UUID field equals this
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          uuid?: string;
          vm_id?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "external_id": null,
             *           "account_id": null,
             *           "vm_id": null,
             *           "bios_vendor": "SeaBIOS",
             *           "bios_version": "rel-1.16.3",
             *           "disk_serial": "drive-scsi0",
             *           "disk_model": "QEMU HARDDISK",
             *           "mb_manufacturer": "QEMU",
             *           "mb_product": "Standard PC (Q35 + ICH9, 2009)",
             *           "mb_version": "pc-q35-8.1",
             *           "mb_serial": null,
             *           "pcname": "DESKTOP-7F3K2LQ",
             *           "product_id": "00330-80000-00000-AA123",
             *           "device_id": null,
             *           "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32",
             *           "machine_guid": null,
             *           "hwprofile_guid": null,
             *           "mac_address": "BC:24:11:5E:0A:01",
             *           "tags": [
             *             "eu"
             *           ],
             *           "notes": null,
             *           "created_at": "2026-11-24T12:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": "WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd",
             *       "total": 120
             *     }
             */
            'application/json': {
              items: components['schemas']['Hardware'][];
              /** @description Pass as cursor for the next page; null on the last */
              next_cursor: string | null;
              /** @description Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted). */
              total: number | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a hardware
     * @description Creates a hardware. Answers 201 with the object, its ETag and Location. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            bios_vendor?: string | null;
            bios_version?: string | null;
            device_id?: string | null;
            disk_model?: string | null;
            disk_serial?: string | null;
            external_id?: string | null;
            hwprofile_guid?: string | null;
            mac_address?: string | null;
            machine_guid?: string | null;
            mb_manufacturer?: string | null;
            mb_product?: string | null;
            mb_serial?: string | null;
            mb_version?: string | null;
            notes?: string | null;
            /**
             * Format: uuid
             * @description Admins: create the object for this user (default: yourself)
             */
            owner_id?: string;
            pcname?: string | null;
            product_id?: string | null;
            smbios_uuid?: string | null;
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            vm_id?: string | null;
          };
        };
      };
      responses: {
        /** @description A hardware profile: the identifiers a machine presents */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Hardware'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hardware/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a hardware
     * @description One hardware with its ETag (send it back in If-Match to update safely). Another user's hardware answers 404; an admin reads it (a direct link works whatever the list scope), and it then carries its owner.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A hardware profile: the identifiers a machine presents */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Hardware'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a hardware
     * @description Deletes the hardware; links pointing at it are cleared. With If-Match, a stale ETag answers 412.
     */
    delete: {
      parameters: {
        query?: never;
        header?: {
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update a hardware
     * @description Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: {
          /** @description ETag from a GET */
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            bios_vendor?: string | null;
            bios_version?: string | null;
            device_id?: string | null;
            disk_model?: string | null;
            disk_serial?: string | null;
            external_id?: string | null;
            hwprofile_guid?: string | null;
            mac_address?: string | null;
            machine_guid?: string | null;
            mb_manufacturer?: string | null;
            mb_product?: string | null;
            mb_serial?: string | null;
            mb_version?: string | null;
            notes?: string | null;
            pcname?: string | null;
            product_id?: string | null;
            smbios_uuid?: string | null;
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            vm_id?: string | null;
          };
        };
      };
      responses: {
        /** @description A hardware profile: the identifiers a machine presents */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Hardware'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/hardware/bulk': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create many hardware
     * @description Creates up to 10000 hardware in one transaction. Each item is validated like POST /hardware. When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row (errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the failed ones reported. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          /** @description Write the valid items even when some fail */
          partial: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "bios_vendor": "SeaBIOS",
           *           "bios_version": "rel-1.16.3",
           *           "disk_serial": "drive-scsi0",
           *           "disk_model": "QEMU HARDDISK",
           *           "mb_manufacturer": "QEMU",
           *           "mb_product": "Standard PC (Q35 + ICH9, 2009)",
           *           "pcname": "DESKTOP-7F3K2LQ",
           *           "smbios_uuid": "{4C4C4544-0042-3510-8052-B4C04F4E4D32}",
           *           "machine_guid": "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
           *           "mac_address": "bc-24-11-5e-0a-01",
           *           "tags": [
           *             "eu"
           *           ]
           *         },
           *         {
           *           "pcname": "DESKTOP-Q81ZC0M",
           *           "mac_address": "BC24115E0A02"
           *         }
           *       ]
           *     }
           */
          'application/json': {
            items: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              created: number;
              errors: {
                errors: {
                  message: string;
                  path: string;
                }[];
                /** @description 0-based item index */
                row: number;
              }[];
              failed: number;
              /** @description Ids of the created objects, in item order */
              ids: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hardware/bulk-delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Delete many hardware
     * @description Deletes up to 10000 listed hardware in one transaction. Ids that do not exist (or are not yours) are reported in not_found. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "ids": [
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
           *       ]
           *     }
           */
          'application/json': {
            ids: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: number;
              not_found: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hardware/collisions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Identifiers used by more than one hardware record
     * @description Every MAC, UUID and serial that appears on more than one of your hardware records (a cloned VM that kept its identity, a copy-paste slip). An admin's own records too; with scope=all every user's (collisions within each user's records), with owner_id one user's.
     */
    get: {
      parameters: {
        query?: {
          field?:
            | 'mac_address'
            | 'smbios_uuid'
            | 'machine_guid'
            | 'hwprofile_guid'
            | 'disk_serial'
            | 'mb_serial'
            | 'product_id'
            | 'device_id';
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "field": "mac_address",
             *           "value": "BC:24:11:5E:0A:01",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "count": 2,
             *           "hardware_ids": [
             *             "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *             "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
             *           ]
             *         }
             *       ]
             *     }
             */
            'application/json': {
              items: {
                /** @description Records carrying this value */
                count: number;
                /** @description Identifier field */
                field: string;
                hardware_ids: string[];
                /** Format: uuid */
                owner_id: string;
                value: string;
              }[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hardware/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export hardware
     * @description Streams every hardware matching the list filters as CSV or a JSON array (same fields as the API). Audited.  A row that cannot be read in the first 1000 fails the request (problem answer). One that fails later, once the file has started, ends it with an error so it never passes for complete: JSON gets a last line {"accountdb_export_error": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last record "EXPORT FAILED: …" with one field more than the header. The HTTP trailer x-export-status says ok or failed. At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    get: {
      parameters: {
        query: {
          account_id?: string;
          external_id?: string;
          /** @description csv or json: the fields of the API; legacy-json: the earlier AccountDB's hardware rows: id (the external_id), acc_id (the linked account's external_id), vmid (the linked VM's VMID) and the identifier columns.; legacy-csv: the same as the earlier hardware table as psql writes it (NULL empty; values exact, not defused against spreadsheet formulas). */
          format: 'csv' | 'json' | 'legacy-json' | 'legacy-csv';
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          hwprofile_guid?: string;
          /** @description true: linked to an account or VM; false: linked to neither */
          linked?: boolean;
          /**
           * @description MAC address in any common spelling; stored as AA:BB:CC:DD:EE:FF
           * @example BC:24:11:5E:0A:01
           */
          mac_address?: string;
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          machine_guid?: string;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the hardware's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          smbios_uuid?: string;
          sort?: string;
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          /**
           * @description Any UUID field equals this
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          uuid?: string;
          vm_id?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The export, sent as a file download */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Hardware'][];
            'text/csv': string;
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hardware/import': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Import hardware
     * @description Uploads hardware records as a JSON array, JSON lines (application/x-ndjson) or CSV with a header row (text/csv). A record uses AccountDB's field names (as POST /hardware, with account_id/vm_id) or is a row of the earlier AccountDB's hardware table (its JSON upload, a psql CSV dump or node-postgres rows: id, acc_id, bios_vendor, …, mac_address, vmid, pcname, machine_guid, hwprofile_guid, product_id, device_id, owner_id). Earlier rows link by acc_id (the external_id, SteamID64, of one of your accounts) and vmid (one of your VMs); a link that matches none of yours, or a VMID on two of your nodes, is that row's error and the row is not written. The earlier id is kept as external_id; owner_id is not kept. A record whose external_id (else smbios_uuid) matches one of your records updates it, or is counted unchanged; others are created, so a second import of the same file changes nothing. Rows are numbered from 1 (CSV: the line). The answer lists the first 100 errors and counts them all. dry_run=true checks everything and writes nothing. At most 20,000 records and 16 MiB per upload (400 too_many_records, 413). An upload that is not valid JSON writes nothing (400 invalid_json). Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          dry_run: boolean;
          /** @description Override the format detected from Content-Type */
          format?: 'json' | 'jsonl' | 'csv';
          /** @description Admins: import for this user */
          owner_id?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "dry_run": false,
             *       "format": "json",
             *       "total": 4,
             *       "created": 2,
             *       "updated": 1,
             *       "unchanged": 0,
             *       "failed": 1,
             *       "errors": [
             *         {
             *           "row": 4,
             *           "message": "vmid 105: none of your VMs has this VMID"
             *         }
             *       ],
             *       "errors_total": 1,
             *       "errors_truncated": false
             *     }
             */
            'application/json': {
              created: number;
              dry_run: boolean;
              /** @description The first 100 errors, by row */
              errors: {
                message: string;
                row: number;
              }[];
              /** @description Every error, listed or not (equals failed) */
              errors_total: number;
              /** @description More errors than the list shows */
              errors_truncated: boolean;
              /** @description Records not imported, each with one error */
              failed: number;
              format: string;
              /** @description Records read: created + updated + unchanged + failed */
              total: number;
              /** @description Records matching one of yours with the same values */
              unchanged: number;
              /** @description Records matching one of yours, with other values */
              updated: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unsupported Media Type */
        415: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List proxmox-nodes
     * @description Proxmox VE nodes. Creating one answers its agent key (adb_node_…) once, with a ready-to-paste agent configuration. Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, `q` lists the best matches first. `total` is null unless `count=true` is asked, the first page holds every match, or `q` is the only filter (the search counts its matches anyway).
     */
    get: {
      parameters: {
        query: {
          cluster?: string;
          /** @description true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match. */
          count?: boolean;
          /** @description next_cursor of the previous page */
          cursor?: string;
          /** @description Page size */
          limit: number;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the proxmox_node's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          /** @description Comma-separated fields, "-" for descending. Allowed: created_at, name, status, last_seen_at. Default name. */
          sort?: string;
          /** @description pending: the agent never reported; online; stale: no report for 3 sync intervals; offline: for 10; error: the agent reports a problem (judged by the server's clock) */
          status?: 'pending' | 'online' | 'stale' | 'error' | 'offline';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-0000-7000-8000-0000000000aa",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "name": "pve1",
             *           "hostname": "pve1.lan",
             *           "port": 8006,
             *           "cluster": null,
             *           "status": "online",
             *           "last_seen_at": "2026-11-24T12:00:00.000Z",
             *           "last_sync_at": "2026-11-24T12:00:00.000Z",
             *           "last_sync_stats": {
             *             "created": 0,
             *             "updated": 3,
             *             "unchanged": 97,
             *             "absent": 0,
             *             "ignored": 0
             *           },
             *           "sync_requested_at": null,
             *           "last_error": null,
             *           "agent_version": "0.1.0",
             *           "pve_version": "8.4.1",
             *           "api_key_prefix": "adb_node_Ab12Cd34Ef56",
             *           "api_key_rotated_at": null,
             *           "sync_mode": "all",
             *           "sync_interval_s": 60,
             *           "whitelist": [],
             *           "skipped_vmids": [],
             *           "tags": [],
             *           "notes": null,
             *           "created_at": "2026-11-24T12:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": "WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd",
             *       "total": 120
             *     }
             */
            'application/json': {
              items: components['schemas']['ProxmoxNode'][];
              /** @description Pass as cursor for the next page; null on the last */
              next_cursor: string | null;
              /** @description Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted). */
              total: number | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a Proxmox node
     * @description Creates a Proxmox node. Answers 201 with the object, its ETag and Location. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            cluster?: string | null;
            hostname?: string | null;
            /**
             * @description Proxmox node name (as in the Proxmox UI); no control characters (it is written into the agent configuration)
             * @example pve1
             */
            name: string;
            notes?: string | null;
            /**
             * Format: uuid
             * @description Admins: create the object for this user (default: yourself)
             */
            owner_id?: string;
            /** @description Proxmox API port (8006) */
            port?: number;
            /** @description Seconds between agent syncs */
            sync_interval_s?: number;
            /** @description all: sync every guest; whitelist: only the listed VMIDs */
            sync_mode?: 'all' | 'whitelist';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            /** @description VMIDs synced in whitelist mode */
            whitelist?: number[];
          };
        };
      };
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a Proxmox node
     * @description One Proxmox node with its ETag (send it back in If-Match to update safely). Another user's Proxmox node answers 404; an admin reads it (a direct link works whatever the list scope), and it then carries its owner.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a Proxmox node
     * @description Deletes the Proxmox node; links pointing at it are cleared. With If-Match, a stale ETag answers 412. Only its owner (or an admin) deletes it: a user it is shared with gets 403 (owner_only, or share_read_only for a read-only share).
     */
    delete: {
      parameters: {
        query?: never;
        header?: {
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update a Proxmox node
     * @description Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing. A Proxmox node shared with you read-only answers 403 share_read_only; a read-write share may change it. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: {
          /** @description ETag from a GET */
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            cluster?: string | null;
            hostname?: string | null;
            /**
             * @description Proxmox node name (as in the Proxmox UI); no control characters (it is written into the agent configuration)
             * @example pve1
             */
            name?: string;
            notes?: string | null;
            /** @description Proxmox API port (8006) */
            port?: number;
            /** @description Seconds between agent syncs */
            sync_interval_s?: number;
            /** @description all: sync every guest; whitelist: only the listed VMIDs */
            sync_mode?: 'all' | 'whitelist';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            /** @description VMIDs synced in whitelist mode */
            whitelist?: number[];
          };
        };
      };
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/proxmox-nodes/{id}/rotate-key': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Rotate a node's agent key
     * @description Issues a new agent key and answers it once with a fresh agent configuration; the old key stops working at once. Agent keys are never shared: a user the node is shared with gets 403 owner_only. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/{id}/sync-now': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Ask the agent to sync now
     * @description Sets the node's sync_requested_at. The agent sees it on its next config poll (GET /agent/config, every 10 s between cycles), runs a cycle at once, and that sync clears it; the node's live event (GET /events) tells when. Only the node's owner may ask (an admin viewing another user's node gets 403 owner_only). Asking again while a request is pending moves it to now. Audited as proxmox_node.sync_now. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Requested; the agent serves it on its next config poll */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "sync_requested_at": "2026-11-24T12:00:05.123Z"
             *     }
             */
            'application/json': {
              /** Format: date-time */
              sync_requested_at: string;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/{id}/whitelist': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Replace a node's whitelist
     * @description The VMIDs synced when sync_mode is whitelist (kept sorted, without duplicates). Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "vmids": [
           *         101,
           *         102,
           *         105
           *       ]
           *     }
           */
          'application/json': {
            vmids: number[];
          };
        };
      };
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/{id}/whitelist/{vmid}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Add a VMID to a node's whitelist
     * @description Idempotent: adding a listed VMID changes nothing. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
          vmid: number;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /**
     * Remove a VMID from a node's whitelist
     * @description Idempotent: removing an unlisted VMID changes nothing.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
          vmid: number;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A Proxmox VE node whose guests an agent keeps in sync */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/bulk': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create many proxmox-nodes
     * @description Creates up to 10000 proxmox-nodes in one transaction. Each item is validated like POST /proxmox-nodes. When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row (errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the failed ones reported. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          /** @description Write the valid items even when some fail */
          partial: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "name": "pve1",
           *           "hostname": "pve1.lan",
           *           "tags": [
           *             "rack-a"
           *           ]
           *         },
           *         {
           *           "name": "pve2",
           *           "hostname": "10.0.0.12",
           *           "cluster": "homelab",
           *           "sync_mode": "whitelist",
           *           "whitelist": [
           *             101,
           *             102,
           *             105
           *           ],
           *           "sync_interval_s": 30
           *         }
           *       ]
           *     }
           */
          'application/json': {
            items: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              created: number;
              errors: {
                errors: {
                  message: string;
                  path: string;
                }[];
                /** @description 0-based item index */
                row: number;
              }[];
              failed: number;
              /** @description Ids of the created objects, in item order */
              ids: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/bulk-delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Delete many proxmox-nodes
     * @description Deletes up to 10000 listed proxmox-nodes in one transaction. Ids that do not exist (or are not yours) are reported in not_found. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "ids": [
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
           *       ]
           *     }
           */
          'application/json': {
            ids: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: number;
              not_found: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/proxmox-nodes/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export proxmox-nodes
     * @description Streams every proxmox_node matching the list filters as CSV or a JSON array (same fields as the API). Audited.  A row that cannot be read in the first 1000 fails the request (problem answer). One that fails later, once the file has started, ends it with an error so it never passes for complete: JSON gets a last line {"accountdb_export_error": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last record "EXPORT FAILED: …" with one field more than the header. The HTTP trailer x-export-status says ok or failed. At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    get: {
      parameters: {
        query: {
          cluster?: string;
          /** @description csv or json: the fields of the API */
          format: 'csv' | 'json';
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the proxmox_node's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          sort?: string;
          /** @description pending: the agent never reported; online; stale: no report for 3 sync intervals; offline: for 10; error: the agent reports a problem (judged by the server's clock) */
          status?: 'pending' | 'online' | 'stale' | 'error' | 'offline';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The export, sent as a file download */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ProxmoxNode'][];
            'text/csv': string;
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/settings': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Instance settings
     * @description Settings that apply to every user. Admins only.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "mfa_required": true,
             *       "updated_at": "2026-12-06T20:00:00.000Z"
             *     }
             */
            'application/json': {
              /** @description Every user needs a second factor: one without gets, after the password, a login step that only lets them set one up */
              mfa_required: boolean;
              /** Format: date-time */
              updated_at: string;
            };
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Change instance settings
     * @description mfa_required: true makes every user without a second factor set one up at their next login (sessions already open stay). Audited. Admins only. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "mfa_required": true
           *     }
           */
          'application/json': {
            mfa_required?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "mfa_required": true,
             *       "updated_at": "2026-12-06T20:00:00.000Z"
             *     }
             */
            'application/json': {
              /** @description Every user needs a second factor: one without gets, after the password, a login step that only lets them set one up */
              mfa_required: boolean;
              /** Format: date-time */
              updated_at: string;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List your personal access tokens
     * @description Your tokens, newest first: names, scopes, expiry and last use. Never the tokens themselves.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "name": "claim worker",
             *           "prefix": "adb_pat_fym3trwmek31",
             *           "scopes": [
             *             "read",
             *             "write"
             *           ],
             *           "expires_at": "2027-02-22T12:00:00.000Z",
             *           "last_used_at": "2026-11-24T12:00:00.000Z",
             *           "last_used_ip": "192.0.2.10",
             *           "created_at": "2026-11-24T11:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              items: components['schemas']['ApiToken'][];
            };
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a personal access token
     * @description Creates a token for scripts (`Authorization: Bearer adb_pat_…`). The token is in this response only; AccountDB keeps a hash. A read-only token gets 403 insufficient_scope on writes. Only a logged-in user (not another token) may create tokens. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "name": "claim worker",
           *       "scopes": [
           *         "read",
           *         "write"
           *       ],
           *       "expires_in_days": 90
           *     }
           */
          'application/json': {
            /** @description Omit for a token that does not expire */
            expires_in_days?: number;
            /**
             * @description What the token is for
             * @example claim worker
             */
            name: string;
            /**
             * @description read: GET requests; write: every method (implies read)
             * @example [
             *       "read"
             *     ]
             */
            scopes: ('read' | 'write')[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: date-time */
              created_at: string;
              expires_at: string | null;
              /**
               * Format: uuid
               * @description Object id (UUID)
               * @example 0194c3a2-0000-7000-8000-000000000001
               */
              id: string;
              last_used_at: string | null;
              last_used_ip: string | null;
              name: string;
              /** @description The first characters of the token, to recognise it */
              prefix: string;
              scopes: ('read' | 'write')[];
              /** @description The token (adb_pat_…). Shown only in this response; store it now. */
              token: string;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tokens/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Revoke a personal access token
     * @description The token stops working at once. Another user's token answers 404.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List users
     * @description All users, ordered by username, with keyset pagination. Admins only.
     */
    get: {
      parameters: {
        query: {
          cursor?: string;
          is_active?: boolean;
          limit: number;
          /** @description Part of the username or e-mail */
          q?: string;
          role?: 'admin' | 'user';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-0000-7000-8000-000000000001",
             *           "username": "alice",
             *           "email": "alice@example.com",
             *           "role": "user",
             *           "is_active": true,
             *           "failed_login_count": 0,
             *           "locked_until": null,
             *           "last_login_at": "2026-11-24T12:00:00.000Z",
             *           "created_at": "2026-11-20T08:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": null,
             *       "total": 1
             *     }
             */
            'application/json': {
              items: components['schemas']['User'][];
              next_cursor: string | null;
              total: number;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a user
     * @description Creates a user (role user unless given). Admins only. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "username": "bob",
           *       "email": "bob@example.com",
           *       "password": "another long passphrase",
           *       "role": "user"
           *     }
           */
          'application/json': {
            /**
             * Format: email
             * @description E-mail address; unique ignoring case
             * @example alice@example.com
             */
            email: string;
            /**
             * @description Password or passphrase, 12-1024 characters, no composition rules
             * @example correct horse battery staple
             */
            password: string;
            /** @description admin: manages users and sees every user's data; user: sees only their own */
            role?: 'admin' | 'user';
            /**
             * @description Login name: 3-64 letters, digits, dot, dash or underscore; unique ignoring case
             * @example alice
             */
            username: string;
          };
        };
      };
      responses: {
        /** @description A user of this AccountDB instance */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['User'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/users/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a user
     * @description Admins only.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A user of this AccountDB instance */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['User'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a user
     * @description Deletes the user and everything they own. You cannot delete yourself or the last active admin; deactivate (PATCH is_active=false) to keep their data. Admins only.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update a user
     * @description Change username, e-mail or role; `is_active: false` deactivates (every session ends at once, the next request is refused); `password` sets a new password, ends the user's sessions and clears a lockout; `unlock: true` clears a lockout. The last active admin cannot be demoted or deactivated. Admins only. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * Format: email
             * @description E-mail address; unique ignoring case
             * @example alice@example.com
             */
            email?: string;
            /** @description false deactivates: every session of the user ends at once */
            is_active?: boolean;
            /**
             * @description Password or passphrase, 12-1024 characters, no composition rules
             * @example correct horse battery staple
             */
            password?: string;
            /** @description admin: manages users and sees every user's data; user: sees only their own */
            role?: 'admin' | 'user';
            /**
             * @description Clears a login lockout
             * @enum {boolean}
             */
            unlock?: true;
            /**
             * @description Login name: 3-64 letters, digits, dot, dash or underscore; unique ignoring case
             * @example alice
             */
            username?: string;
          };
        };
      };
      responses: {
        /** @description A user of this AccountDB instance */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['User'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/users/{id}/mfa': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A user's second factors
     * @description Whether the user has an authenticator app, how many passkeys and recovery codes. Admins only.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "totp": {
             *         "enabled": true,
             *         "pending": false,
             *         "confirmed_at": "2026-12-06T20:00:00.000Z",
             *         "last_used_at": "2026-12-06T20:05:00.000Z"
             *       },
             *       "passkeys": 1,
             *       "recovery_codes_left": 9,
             *       "methods": [
             *         "totp",
             *         "webauthn",
             *         "recovery_code"
             *       ],
             *       "required": false
             *     }
             */
            'application/json': {
              methods: ('totp' | 'webauthn' | 'recovery_code')[];
              /** @description Registered passkeys (GET /auth/mfa/passkeys lists them) */
              passkeys: number;
              /** @description Unused recovery codes */
              recovery_codes_left: number;
              /** @description An admin requires a second factor of everyone */
              required: boolean;
              totp: {
                confirmed_at: string | null;
                /** @description An authenticator app is confirmed */
                enabled: boolean;
                last_used_at: string | null;
                /** @description An enrolment waits for its confirming code */
                pending: boolean;
              };
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Reset a user's second factors
     * @description Removes the authenticator app, passkeys and recovery codes of a user who lost them, and ends their pending login challenges; they log in with the password alone (or set up a factor at login where one is required). Audited on the user, who sees it in their audit log. Admins only.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id (UUID)
           * @example 0194c3a2-0000-7000-8000-000000000001
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "user": {
             *         "id": "0194c3a2-0000-7000-8000-000000000001",
             *         "username": "alice",
             *         "email": "alice@example.com",
             *         "role": "user",
             *         "is_active": true,
             *         "failed_login_count": 0,
             *         "locked_until": null,
             *         "last_login_at": "2026-11-24T12:00:00.000Z",
             *         "created_at": "2026-11-20T08:00:00.000Z",
             *         "updated_at": "2026-11-24T12:00:00.000Z"
             *       },
             *       "removed_factors": 1
             *     }
             */
            'application/json': {
              /** @description Confirmed factors removed */
              removed_factors: number;
              user: components['schemas']['User'];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/vms': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List vms
     * @description Virtual machines and containers: entered by hand, or kept current by the agent of a Proxmox node. Keyset-paginated: follow next_cursor. Filters combine with AND; without sort, `q` lists the best matches first. `total` is null unless `count=true` is asked, the first page holds every match, or `q` is the only filter (the search counts its matches anyway).
     */
    get: {
      parameters: {
        query: {
          /** @description true: missing from the last complete sync of its node */
          absent?: boolean;
          account_id?: string;
          /** @description true: has an account assigned */
          assigned?: boolean;
          /** @description true: total is the exact number of matches (one more query). Otherwise total is null, except on a first page that holds every match. */
          count?: boolean;
          /** @description next_cursor of the previous page */
          cursor?: string;
          /** @description Page size */
          limit: number;
          /**
           * @description Has this MAC address (any common spelling)
           * @example BC:24:11:5E:0A:01
           */
          mac_address?: string;
          node_id?: string;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the vm's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          smbios_uuid?: string;
          /** @description Comma-separated fields, "-" for descending. Allowed: created_at, updated_at, name, vmid, status, last_seen_at. Default created_at. */
          sort?: string;
          source?: 'agent' | 'manual';
          /** @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states". */
          status?:
            | 'running'
            | 'stopped'
            | 'paused'
            | 'suspended'
            | 'io-error'
            | 'migrating'
            | 'prelaunch'
            | 'internal-error'
            | 'unknown';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          template?: boolean;
          type?: 'qemu' | 'lxc';
          vmid?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
             *           "owner_id": "0194c3a2-0000-7000-8000-000000000001",
             *           "node_id": "0194c3a2-0000-7000-8000-0000000000aa",
             *           "vmid": 101,
             *           "type": "qemu",
             *           "name": "farm-101",
             *           "status": "running",
             *           "template": false,
             *           "pve_lock": null,
             *           "cpu_cores": 2,
             *           "memory_mb": 4096,
             *           "disk_gb": 32,
             *           "ip_addresses": [
             *             "10.0.0.101"
             *           ],
             *           "mac_addresses": [
             *             "BC:24:11:5E:0A:01"
             *           ],
             *           "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32",
             *           "tags": [
             *             "eu"
             *           ],
             *           "pve_tags": [
             *             "farm"
             *           ],
             *           "description": null,
             *           "notes": null,
             *           "account_id": null,
             *           "cpu_usage": 0.12,
             *           "mem_usage": 2147483648,
             *           "uptime_s": 86400,
             *           "source": "agent",
             *           "last_seen_at": "2026-11-24T12:00:00.000Z",
             *           "absent_since": null,
             *           "created_at": "2026-11-24T12:00:00.000Z",
             *           "updated_at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ],
             *       "next_cursor": "WyJjcmVhdGVkX2F0IiwiMjAyNi0xMS0yNCAxMjowMDowMCswMCIsIjAxOTRjM2EyLTdiMWUtN2MzZC05ZjAwLTFhMmIzYzRkNWU2ZiJd",
             *       "total": 120
             *     }
             */
            'application/json': {
              items: components['schemas']['Vm'][];
              /** @description Pass as cursor for the next page; null on the last */
              next_cursor: string | null;
              /** @description Objects matching the filters: counted when count=true is asked, and on a first page that holds every match; otherwise null (not counted). */
              total: number | null;
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    /**
     * Create a VM
     * @description Creates a VM. Answers 201 with the object, its ETag and Location. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            cpu_cores?: number | null;
            description?: string | null;
            disk_gb?: number | null;
            /** @description IPv4/IPv6 addresses */
            ip_addresses?: string[];
            /** @description MACs, stored as AA:BB:CC:DD:EE:FF */
            mac_addresses?: string[];
            memory_mb?: number | null;
            name?: string | null;
            node_id?: string | null;
            notes?: string | null;
            /**
             * Format: uuid
             * @description Admins: create the object for this user (default: yourself)
             */
            owner_id?: string;
            smbios_uuid?: string | null;
            /**
             * @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states".
             * @enum {unknown}
             */
            status?:
              | 'running'
              | 'stopped'
              | 'paused'
              | 'suspended'
              | 'io-error'
              | 'migrating'
              | 'prelaunch'
              | 'internal-error'
              | 'unknown';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            template?: boolean;
            type?: 'qemu' | 'lxc';
            vmid?: number | null;
          };
        };
      };
      responses: {
        /** @description A virtual machine or container, entered by hand or synced from a Proxmox node */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Vm'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/vms/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a VM
     * @description One VM with its ETag (send it back in If-Match to update safely). Another user's VM answers 404; an admin reads it (a direct link works whatever the list scope), and it then carries its owner.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description A virtual machine or container, entered by hand or synced from a Proxmox node */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Vm'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a VM
     * @description Deletes the VM; links pointing at it are cleared. With If-Match, a stale ETag answers 412. Only its owner (or an admin) deletes it: a user it is shared with gets 403 (owner_only, or share_read_only for a read-only share).
     */
    delete: {
      parameters: {
        query?: never;
        header?: {
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update a VM
     * @description Changes the fields sent; others stay. With If-Match, a stale ETag answers 412 and changes nothing. A VM shared with you read-only answers 403 share_read_only; a read-write share may change it. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex).
     */
    patch: {
      parameters: {
        query?: never;
        header?: {
          /** @description ETag from a GET */
          'if-match'?: string;
        };
        path: {
          /**
           * @description Object id
           * @example 0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f
           */
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            account_id?: string | null;
            cpu_cores?: number | null;
            description?: string | null;
            disk_gb?: number | null;
            /** @description IPv4/IPv6 addresses */
            ip_addresses?: string[];
            /** @description MACs, stored as AA:BB:CC:DD:EE:FF */
            mac_addresses?: string[];
            memory_mb?: number | null;
            name?: string | null;
            node_id?: string | null;
            notes?: string | null;
            smbios_uuid?: string | null;
            /**
             * @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states".
             * @enum {unknown}
             */
            status?:
              | 'running'
              | 'stopped'
              | 'paused'
              | 'suspended'
              | 'io-error'
              | 'migrating'
              | 'prelaunch'
              | 'internal-error'
              | 'unknown';
            /**
             * @description Free labels; trimmed, duplicates dropped (case-insensitive)
             * @example [
             *       "prime",
             *       "eu"
             *     ]
             */
            tags?: string[];
            template?: boolean;
            type?: 'qemu' | 'lxc';
            vmid?: number | null;
          };
        };
      };
      responses: {
        /** @description A virtual machine or container, entered by hand or synced from a Proxmox node */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Vm'];
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Conflict */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Precondition Failed */
        412: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    trace?: never;
  };
  '/api/v1/vms/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Status history of a VM
     * @description Every status change of the VM (from syncs and edits), newest first.
     */
    get: {
      parameters: {
        query: {
          limit: number;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            /**
             * @example {
             *       "items": [
             *         {
             *           "from_status": "running",
             *           "to_status": "stopped",
             *           "at": "2026-11-25T09:30:00.000Z"
             *         },
             *         {
             *           "from_status": null,
             *           "to_status": "running",
             *           "at": "2026-11-24T12:00:00.000Z"
             *         }
             *       ]
             *     }
             */
            'application/json': {
              items: {
                /** Format: date-time */
                at: string;
                from_status: string | null;
                to_status: string;
              }[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Not Found */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/vms/bulk': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create many vms
     * @description Creates up to 10000 vms in one transaction. Each item is validated like POST /vms. When any item fails, nothing is written and the answer is 422 bulk_failed listing every failed row (errors[].path starts with /body/items/<row>); with ?partial=true the valid items are written and the failed ones reported. Limits: a body of at most 16 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query: {
          /** @description Write the valid items even when some fail */
          partial: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "items": [
           *         {
           *           "node_id": "0194c3a2-0000-7000-8000-0000000000aa",
           *           "vmid": 101,
           *           "type": "qemu",
           *           "name": "farm-101",
           *           "status": "running",
           *           "cpu_cores": 2,
           *           "memory_mb": 4096,
           *           "disk_gb": 32,
           *           "ip_addresses": [
           *             "10.0.0.101",
           *             "fd00::101/64"
           *           ],
           *           "mac_addresses": [
           *             "bc:24:11:5e:0a:01"
           *           ],
           *           "tags": [
           *             "eu"
           *           ]
           *         },
           *         {
           *           "name": "laptop-vm",
           *           "type": "qemu",
           *           "status": "stopped",
           *           "notes": "Not on Proxmox"
           *         }
           *       ]
           *     }
           */
          'application/json': {
            items: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              created: number;
              errors: {
                errors: {
                  message: string;
                  path: string;
                }[];
                /** @description 0-based item index */
                row: number;
              }[];
              failed: number;
              /** @description Ids of the created objects, in item order */
              ids: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Content Too Large */
        413: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unprocessable Content */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/vms/bulk-delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Delete many vms
     * @description Deletes up to 10000 listed vms in one transaction. Ids that do not exist (or are not yours) are reported in not_found. Limits: a body of at most 1 MiB (413 payload_too_large); JSON nested at most 64 levels (400 json_too_deep) with at most 200,000 objects and arrays (400 json_too_complex). At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          /**
           * @example {
           *       "ids": [
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
           *         "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e70"
           *       ]
           *     }
           */
          'application/json': {
            ids: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              deleted: number;
              not_found: string[];
            };
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/vms/export': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Export vms
     * @description Streams every vm matching the list filters as CSV or a JSON array (same fields as the API). Audited.  A row that cannot be read in the first 1000 fails the request (problem answer). One that fails later, once the file has started, ends it with an error so it never passes for complete: JSON gets a last line {"accountdb_export_error": {code, detail, rows, request_id}} with no closing bracket (invalid JSON); CSV a last record "EXPORT FAILED: …" with one field more than the header. The HTTP trailer x-export-status says ok or failed. At most 2 imports, bulk creates, bulk deletes and exports of one user run at once; one more answers 429 too_many_concurrent_requests with Retry-After (counted per API process).
     */
    get: {
      parameters: {
        query: {
          /** @description true: missing from the last complete sync of its node */
          absent?: boolean;
          account_id?: string;
          /** @description true: has an account assigned */
          assigned?: boolean;
          /** @description csv or json: the fields of the API */
          format: 'csv' | 'json';
          /**
           * @description Has this MAC address (any common spelling)
           * @example BC:24:11:5E:0A:01
           */
          mac_address?: string;
          node_id?: string;
          /** @description Admins: only this user's objects (implies scope=all) */
          owner_id?: string;
          /** @description Search the vm's text fields (exact, prefix, substring, or a name similar to it); without sort, the best matches first */
          q?: string;
          /** @description Admins: every user's objects (each with its owner). Without it an admin sees only their own, like every user. */
          scope?: 'all';
          /** @description Objects other users shared with you: include (default: yours and theirs, each shared one with shared_by), exclude (yours only) or only (theirs only). Applies to your own scope (not to scope=all or owner_id). A search (q) covers your own objects only. */
          shared?: 'include' | 'exclude' | 'only';
          /**
           * @description UUID, with or without braces; stored lower-case
           * @example 4c4c4544-0042-3510-8052-b4c04f4e4d32
           */
          smbios_uuid?: string;
          sort?: string;
          source?: 'agent' | 'manual';
          /** @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states". */
          status?:
            | 'running'
            | 'stopped'
            | 'paused'
            | 'suspended'
            | 'io-error'
            | 'migrating'
            | 'prelaunch'
            | 'internal-error'
            | 'unknown';
          /** @description Only objects carrying this tag (repeat for all of several tags) */
          tag?: string | string[];
          template?: boolean;
          type?: 'qemu' | 'lxc';
          vmid?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description The export, sent as a file download */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Vm'][];
            'text/csv': string;
          };
        };
        /** @description Bad Request */
        400: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Unauthorized */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Forbidden */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
        /** @description Too Many Requests */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Problem'];
            'text/csv': components['schemas']['Problem'];
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics
     * @description Request counts and latency by route and status, database pool, agent syncs per node, claims, login failures and process figures, in the Prometheus text format. Needs the bearer ACCOUNTDB_METRICS_TOKEN when it is set; otherwise answers requests from this machine only.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /**
     * @description An account at an online service. Secrets are never included: has_<secret> tells which are stored.
     * @example {
     *       "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
     *       "owner_id": "0194c3a2-0000-7000-8000-000000000001",
     *       "external_id": "76561198000000000",
     *       "service": "steam",
     *       "username": "gaben_fan_42",
     *       "email": "fan42@example.com",
     *       "status": "active",
     *       "locked_until": null,
     *       "status_reason": null,
     *       "tags": [
     *         "prime"
     *       ],
     *       "notes": null,
     *       "attributes": {},
     *       "has_password": true,
     *       "has_email_password": true,
     *       "has_vault_password": false,
     *       "has_totp_secret": false,
     *       "has_shared_secret": true,
     *       "has_identity_secret": true,
     *       "has_revocation_code": true,
     *       "has_steam_guard": true,
     *       "has_totp": true,
     *       "claimed_by": null,
     *       "claimed_until": null,
     *       "created_at": "2026-11-24T12:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    Account: {
      attributes: {
        [key: string]: unknown;
      };
      claimed_by: string | null;
      claimed_until: string | null;
      /** Format: date-time */
      created_at: string;
      email: string | null;
      external_id: string | null;
      has_email_password: boolean;
      has_identity_secret: boolean;
      has_password: boolean;
      has_revocation_code: boolean;
      has_shared_secret: boolean;
      has_steam_guard: boolean;
      /** @description A 2FA code can be made (totp_secret or shared_secret) */
      has_totp: boolean;
      has_totp_secret: boolean;
      has_vault_password: boolean;
      /** Format: uuid */
      id: string;
      locked_until: string | null;
      notes: string | null;
      /** @description Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours). */
      owner?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      owner_id: string;
      /** @description On an object shared with you: what the share allows (for a VM, the wider of its own grant and its node's). */
      permission?: 'read' | 'write';
      /** @description On an account shared with you: whether the share lets you read its secrets (GET /accounts/{id}/secrets, /totp, export with include_secrets). */
      secrets_shared?: boolean;
      service: string;
      /** @description Set on an object another user shared with you (shown "shared by <username>"): its owner. Absent on your own objects. */
      shared_by?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** @description active | locked (until locked_until, then active again by itself) | disabled | banned */
      status: 'active' | 'locked' | 'disabled' | 'banned';
      status_reason: string | null;
      tags: string[];
      /** Format: date-time */
      updated_at: string;
      username: string;
    };
    /** @description A personal access token (never the token itself) */
    ApiToken: {
      /** Format: date-time */
      created_at: string;
      expires_at: string | null;
      /**
       * Format: uuid
       * @description Object id (UUID)
       * @example 0194c3a2-0000-7000-8000-000000000001
       */
      id: string;
      last_used_at: string | null;
      last_used_ip: string | null;
      name: string;
      /** @description The first characters of the token, to recognise it */
      prefix: string;
      scopes: ('read' | 'write')[];
    };
    /**
     * @description A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked.
     * @example {
     *       "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
     *       "owner_id": "0194c3a2-0000-7000-8000-000000000001",
     *       "code_hint": "••••••••DDDD",
     *       "has_code2": false,
     *       "status": "available",
     *       "failure_reason": null,
     *       "claimed_by": null,
     *       "claimed_until": null,
     *       "redeemed_at": null,
     *       "account_id": null,
     *       "value": 20,
     *       "currency": "EUR",
     *       "expires_at": null,
     *       "tags": [
     *         "batch-7"
     *       ],
     *       "notes": null,
     *       "created_at": "2026-11-24T12:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    Card: {
      account_id: string | null;
      claimed_by: string | null;
      claimed_until: string | null;
      /** @description The code masked but for its last characters */
      code_hint: string;
      /** @description Only in GET /cards/{id} (audited) and claims */
      code1?: string;
      code2?: string | null;
      /** Format: date-time */
      created_at: string;
      currency: string | null;
      expires_at: string | null;
      failure_reason: string | null;
      has_code2: boolean;
      /** Format: uuid */
      id: string;
      notes: string | null;
      /** @description Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours). */
      owner?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      owner_id: string;
      redeemed_at: string | null;
      /** @description available → claimed (a lease) → redeemed or failed; a lapsed lease is available again; disabled: kept aside */
      status: 'available' | 'claimed' | 'redeemed' | 'failed' | 'disabled';
      tags: string[];
      /** Format: date-time */
      updated_at: string;
      value: number | null;
    };
    /**
     * @description A share of one object with one other user
     * @example {
     *       "id": "0194c3a2-0000-7000-8000-0000000000f1",
     *       "object_type": "vm",
     *       "object_id": "0194c3a2-0000-7000-8000-0000000000b1",
     *       "object_name": "farm-01",
     *       "owner": {
     *         "id": "0194c3a2-0000-7000-8000-000000000001",
     *         "username": "alice"
     *       },
     *       "grantee": {
     *         "id": "0194c3a2-0000-7000-8000-000000000002",
     *         "username": "bob"
     *       },
     *       "permission": "read",
     *       "secrets": false,
     *       "created_at": "2026-12-06T12:00:00.000Z",
     *       "updated_at": "2026-12-06T12:00:00.000Z"
     *     }
     */
    Grant: {
      /** Format: date-time */
      created_at: string;
      grantee: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      id: string;
      /** Format: uuid */
      object_id: string;
      /** @description The name of the object (account username, VM name, node name) when known */
      object_name: string | null;
      /** @description proxmox_node (the node and every VM on it), vm or account */
      object_type: 'proxmox_node' | 'vm' | 'account';
      owner: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** @description read: the grantee sees the object; write: the grantee may also change it (never delete it, move it to another owner or share it again) */
      permission: 'read' | 'write';
      /** @description Accounts only: whether the grantee may read the secrets (always false otherwise) */
      secrets: boolean;
      /** Format: date-time */
      updated_at: string;
    };
    /**
     * @description A hardware profile: the identifiers a machine presents
     * @example {
     *       "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
     *       "owner_id": "0194c3a2-0000-7000-8000-000000000001",
     *       "external_id": null,
     *       "account_id": null,
     *       "vm_id": null,
     *       "bios_vendor": "SeaBIOS",
     *       "bios_version": "rel-1.16.3",
     *       "disk_serial": "drive-scsi0",
     *       "disk_model": "QEMU HARDDISK",
     *       "mb_manufacturer": "QEMU",
     *       "mb_product": "Standard PC (Q35 + ICH9, 2009)",
     *       "mb_version": "pc-q35-8.1",
     *       "mb_serial": null,
     *       "pcname": "DESKTOP-7F3K2LQ",
     *       "product_id": "00330-80000-00000-AA123",
     *       "device_id": null,
     *       "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32",
     *       "machine_guid": null,
     *       "hwprofile_guid": null,
     *       "mac_address": "BC:24:11:5E:0A:01",
     *       "tags": [
     *         "eu"
     *       ],
     *       "notes": null,
     *       "created_at": "2026-11-24T12:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    Hardware: {
      account_id: string | null;
      bios_vendor: string | null;
      bios_version: string | null;
      /** Format: date-time */
      created_at: string;
      device_id: string | null;
      disk_model: string | null;
      disk_serial: string | null;
      external_id: string | null;
      hwprofile_guid: string | null;
      /** Format: uuid */
      id: string;
      mac_address: string | null;
      machine_guid: string | null;
      mb_manufacturer: string | null;
      mb_product: string | null;
      mb_serial: string | null;
      mb_version: string | null;
      notes: string | null;
      /** @description Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours). */
      owner?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      owner_id: string;
      pcname: string | null;
      product_id: string | null;
      smbios_uuid: string | null;
      tags: string[];
      /** Format: date-time */
      updated_at: string;
      vm_id: string | null;
    };
    /** @description Problem details (RFC 9457), served as application/problem+json */
    Problem: {
      /**
       * @description Stable machine-readable error code
       * @example validation_error
       */
      code: string;
      /** @description What went wrong in this case */
      detail: string;
      /** @description Per-field problems of a validation error */
      errors?: {
        message: string;
        /** @description Offending field, e.g. /body/email */
        path: string;
      }[];
      /** @description The request id, also in the x-request-id header */
      request_id?: string;
      /** @description HTTP status code */
      status: number;
      /** @description Short human summary of the problem type */
      title: string;
      /**
       * @description URI naming the problem type
       * @example urn:accountdb:problem:validation_error
       */
      type: string;
    };
    /**
     * @description A Proxmox VE node whose guests an agent keeps in sync
     * @example {
     *       "id": "0194c3a2-0000-7000-8000-0000000000aa",
     *       "owner_id": "0194c3a2-0000-7000-8000-000000000001",
     *       "name": "pve1",
     *       "hostname": "pve1.lan",
     *       "port": 8006,
     *       "cluster": null,
     *       "status": "online",
     *       "last_seen_at": "2026-11-24T12:00:00.000Z",
     *       "last_sync_at": "2026-11-24T12:00:00.000Z",
     *       "last_sync_stats": {
     *         "created": 0,
     *         "updated": 3,
     *         "unchanged": 97,
     *         "absent": 0,
     *         "ignored": 0
     *       },
     *       "sync_requested_at": null,
     *       "last_error": null,
     *       "agent_version": "0.1.0",
     *       "pve_version": "8.4.1",
     *       "api_key_prefix": "adb_node_Ab12Cd34Ef56",
     *       "api_key_rotated_at": null,
     *       "sync_mode": "all",
     *       "sync_interval_s": 60,
     *       "whitelist": [],
     *       "skipped_vmids": [],
     *       "tags": [],
     *       "notes": null,
     *       "created_at": "2026-11-24T12:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    ProxmoxNode: {
      /** @description Ready-to-paste agent environment file: only in the create and rotate-key answers */
      agent_config?: string;
      agent_version: string | null;
      /** @description The agent key (adb_node_…): only in the create and rotate-key answers */
      api_key?: string;
      /** @description First characters of the agent key, to recognise it */
      api_key_prefix: string;
      api_key_rotated_at: string | null;
      cluster: string | null;
      /** Format: date-time */
      created_at: string;
      hostname: string | null;
      /** Format: uuid */
      id: string;
      last_error: string | null;
      last_seen_at: string | null;
      last_sync_at: string | null;
      last_sync_stats: {
        [key: string]: unknown;
      } | null;
      name: string;
      notes: string | null;
      /** @description Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours). */
      owner?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      owner_id: string;
      /** @description On an object shared with you: what the share allows (for a VM, the wider of its own grant and its node's). */
      permission?: 'read' | 'write';
      port: number;
      pve_version: string | null;
      /** @description Set on an object another user shared with you (shown "shared by <username>"): its owner. Absent on your own objects. */
      shared_by?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** @description VMIDs the agent saw but did not sync (whitelist mode) */
      skipped_vmids: number[];
      /** @description pending: the agent never reported; online; stale: no report for 3 sync intervals; offline: for 10; error: the agent reports a problem (judged by the server's clock) */
      status: 'pending' | 'online' | 'stale' | 'error' | 'offline';
      sync_interval_s: number;
      sync_mode: 'all' | 'whitelist';
      sync_requested_at: string | null;
      tags: string[];
      /** Format: date-time */
      updated_at: string;
      whitelist: number[];
    };
    /**
     * @description A user of this AccountDB instance
     * @example {
     *       "id": "0194c3a2-0000-7000-8000-000000000001",
     *       "username": "alice",
     *       "email": "alice@example.com",
     *       "role": "user",
     *       "is_active": true,
     *       "failed_login_count": 0,
     *       "locked_until": null,
     *       "last_login_at": "2026-11-24T12:00:00.000Z",
     *       "created_at": "2026-11-20T08:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    User: {
      /** Format: date-time */
      created_at: string;
      email: string;
      /** @description Consecutive failed logins since the last success */
      failed_login_count: number;
      /**
       * Format: uuid
       * @description Object id (UUID)
       * @example 0194c3a2-0000-7000-8000-000000000001
       */
      id: string;
      /** @description A deactivated user cannot log in; open sessions end at once */
      is_active: boolean;
      last_login_at: string | null;
      /** @description Logins are refused until then after repeated failures */
      locked_until: string | null;
      /** @description admin: manages users and sees every user's data; user: sees only their own */
      role: 'admin' | 'user';
      /** Format: date-time */
      updated_at: string;
      username: string;
    };
    /**
     * @description A virtual machine or container, entered by hand or synced from a Proxmox node
     * @example {
     *       "id": "0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f",
     *       "owner_id": "0194c3a2-0000-7000-8000-000000000001",
     *       "node_id": "0194c3a2-0000-7000-8000-0000000000aa",
     *       "vmid": 101,
     *       "type": "qemu",
     *       "name": "farm-101",
     *       "status": "running",
     *       "template": false,
     *       "pve_lock": null,
     *       "cpu_cores": 2,
     *       "memory_mb": 4096,
     *       "disk_gb": 32,
     *       "ip_addresses": [
     *         "10.0.0.101"
     *       ],
     *       "mac_addresses": [
     *         "BC:24:11:5E:0A:01"
     *       ],
     *       "smbios_uuid": "4c4c4544-0042-3510-8052-b4c04f4e4d32",
     *       "tags": [
     *         "eu"
     *       ],
     *       "pve_tags": [
     *         "farm"
     *       ],
     *       "description": null,
     *       "notes": null,
     *       "account_id": null,
     *       "cpu_usage": 0.12,
     *       "mem_usage": 2147483648,
     *       "uptime_s": 86400,
     *       "source": "agent",
     *       "last_seen_at": "2026-11-24T12:00:00.000Z",
     *       "absent_since": null,
     *       "created_at": "2026-11-24T12:00:00.000Z",
     *       "updated_at": "2026-11-24T12:00:00.000Z"
     *     }
     */
    Vm: {
      absent_since: string | null;
      account_id: string | null;
      cpu_cores: number | null;
      cpu_usage: number | null;
      /** Format: date-time */
      created_at: string;
      description: string | null;
      disk_gb: number | null;
      /** Format: uuid */
      id: string;
      ip_addresses: string[];
      last_seen_at: string | null;
      mac_addresses: string[];
      mem_usage: number | null;
      memory_mb: number | null;
      name: string | null;
      node_id: string | null;
      notes: string | null;
      /** @description Who the object belongs to: on every item of a list with scope=all or owner_id, and on an object of another user an admin reads by id. Absent otherwise (it is yours). */
      owner?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      /** Format: uuid */
      owner_id: string;
      /** @description On an object shared with you: what the share allows (for a VM, the wider of its own grant and its node's). */
      permission?: 'read' | 'write';
      pve_lock: string | null;
      pve_tags: string[];
      /** @description Set on an object another user shared with you (shown "shared by <username>"): its owner. Absent on your own objects. */
      shared_by?: {
        /** Format: uuid */
        id: string;
        username: string;
      };
      smbios_uuid: string | null;
      source: 'agent' | 'manual';
      /**
       * @description The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started but not yet run), internal-error (QEMU internal error, guest panic or watchdog), unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states".
       * @enum {unknown}
       */
      status:
        | 'running'
        | 'stopped'
        | 'paused'
        | 'suspended'
        | 'io-error'
        | 'migrating'
        | 'prelaunch'
        | 'internal-error'
        | 'unknown';
      tags: string[];
      template: boolean;
      type: 'qemu' | 'lxc';
      /** Format: date-time */
      updated_at: string;
      uptime_s: number | null;
      vmid: number | null;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
