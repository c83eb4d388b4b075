/** berth's version, as `berth --version` prints it and a lock holder reports it. */
export const VERSION = "0.1.0";
