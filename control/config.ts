/** Where the control plane lives; read once from configuration at start (see cli/config.ts). */
export type ControlConfig = (
  | {
      /** PGlite in this process, served over the Postgres wire protocol so the same `pg` code runs. */
      driver: 'embedded';
      /** Data folder of PGlite. */
      path: string;
    }
  | { driver: 'server'; url: string }
) & {
  /** HMAC key of share links; when absent one is generated once and kept in the control plane. */
  shareSecret?: string;
};
