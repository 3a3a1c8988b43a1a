// What a loaded model supports of Tiller's two levers, as measured when it loads
// (engine/runtime/probeSteeringSupport.ts). Pure TypeScript: the engine and the renderer share it.

export interface SteeringSupportInfo {
    /** a control vector changes the logits (llama.cpp's graph for this architecture calls the control-vector hook) */
    steering: boolean;
    /** every block's output (`l_out-N`) can be captured */
    capture: boolean;
    /** blocks whose output the graph does not expose (empty when capture is true) */
    uncapturedLayers: number[];
    /** a plain sentence when something is not supported, null otherwise */
    message: string | null;
}
