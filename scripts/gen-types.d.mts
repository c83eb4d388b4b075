export declare const schemaPath: URL;
export declare const typesPath: URL;
export declare function generateTypes(): Promise<string>;
