"""The sample municipality's PDM metas, per dependencia: what each secretaría of Villa Esperanza plans in a year.

Data only, read by `sample_plans` (the demo and the tests). Each secretaría has metas of its own field, with PDM
codes (the KPT program code and two digits) that never repeat across dependencias and agree with
`config/pdm.example.csv` where that file has the meta; units from the closed list; physical programming that fits
the tipo de meta (rule M05) and the season (school calendar, rainy seasons, the predial's discount in the first
quarter); responsables with cargos of that secretaría; and weights that split each source of the available
budget among the metas (the biggest programs take the most, cofinanciación goes where an entity pays).

Hacienda's and Educación's first metas keep the programming the seguimiento tests compute by hand from
(600 [100, 200, 200, 100]; 100 % held every quarter; a reduction of 5 points [1.5, 1, 1.5, 1]; Educación's
fourth a yearly 12): change them together with tests/integration/test_seguimiento_year.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.domain.workbook_format import INCREMENTO, MANTENIMIENTO, REDUCCION

BUEN_GOBIERNO = "Villa Esperanza con buen gobierno y transparente"
SEGURA = "Villa Esperanza segura y en paz"
EDUCADA = "Villa Esperanza educada, saludable e incluyente"
CONECTADA = "Villa Esperanza conectada y con infraestructura para el desarrollo"
PRODUCTIVA = "Villa Esperanza productiva y sostenible"


@dataclass(frozen=True)
class Program:
    linea: str
    code: str
    name: str
    project: str  # the investment project registered in the banco de proyectos that funds its POAI money
    bpin: str  # its 13-digit BPIN


@dataclass(frozen=True)
class SampleMeta:
    code: str
    program: Program
    meta: str
    indicator: str
    unit: str
    kind: str
    baseline: float
    cuatrienio: float
    vigencia: float
    quarters: tuple[float, float, float, float]
    activities: tuple[str, ...]
    responsable: int  # index into the dependencia's people
    weights: tuple[int, int, int]  # shares of POAI, funcionamiento and cofinanciación (0: none of that source)
    cofinancer: str | None = None
    project: tuple[str, str] | None = None  # (name, BPIN) of its own investment project; else the program's

    @property
    def bpin(self) -> str:
        return self.project[1] if self.project else self.program.bpin

    @property
    def project_name(self) -> str:
        return self.project[0] if self.project else self.program.project


@dataclass(frozen=True)
class SampleDependencia:
    people: tuple[tuple[str, str], ...]  # (name, cargo) of the responsables, never the secretario
    metas: tuple[SampleMeta, ...]


def _bpin(n: int) -> str:
    return f"202468999{n:04d}"  # year 2024 + the example municipality's DANE code + a serial: 13 digits


_GESTION = "Fortalecimiento a la gestión y dirección de la administración pública territorial"
_HAC_P = Program(
    BUEN_GOBIERNO, "4599", _GESTION, "Fortalecimiento de la gestión tributaria y fiscal de Villa Esperanza", _bpin(11)
)
_EDU_P = Program(
    EDUCADA,
    "2201",
    "Calidad, cobertura y fortalecimiento de la educación inicial, prescolar, básica y media",
    "Mejoramiento del acceso, la permanencia y la calidad educativa en Villa Esperanza",
    _bpin(21),
)
_SAL_PUB = Program(
    EDUCADA, "1905", "Salud pública", "Fortalecimiento de la salud pública en Villa Esperanza", _bpin(31)
)
_SAL_ASE = Program(
    EDUCADA,
    "1906",
    "Aseguramiento y prestación integral de servicios de salud",
    "Aseguramiento en salud de la población pobre y vulnerable de Villa Esperanza",
    _bpin(32),
)
_GOB_SEG = Program(
    SEGURA,
    "4501",
    "Fortalecimiento de la convivencia y la seguridad ciudadana",
    "Fortalecimiento de la seguridad y la convivencia ciudadana en Villa Esperanza",
    _bpin(41),
)
_GOB_DDHH = Program(
    SEGURA,
    "4502",
    "Fortalecimiento del buen gobierno para el respeto y garantía de los derechos humanos",
    "Atención integral a víctimas del conflicto armado en Villa Esperanza",
    _bpin(42),
)
_INF_VIAS = Program(
    CONECTADA,
    "2402",
    "Infraestructura red vial regional",
    "Mejoramiento y mantenimiento de la red vial terciaria de Villa Esperanza",
    _bpin(51),
)
_INF_AGUA = Program(
    CONECTADA,
    "4003",
    "Acceso de la población a los servicios de agua potable y saneamiento básico",
    "Construcción y optimización de redes de alcantarillado en Villa Esperanza",
    _bpin(52),
)
_SOC_INF = Program(
    EDUCADA,
    "4102",
    "Desarrollo integral de niños, niñas, adolescentes y sus familias",
    "Atención integral a la primera infancia, infancia y adolescencia en Villa Esperanza",
    _bpin(61),
)
_SOC_VUL = Program(
    EDUCADA,
    "4104",
    "Atención integral de población en situación permanente de desprotección social y/o familiar",
    "Protección integral de personas mayores y con discapacidad en Villa Esperanza",
    _bpin(62),
)
_SOC_INC = Program(
    EDUCADA,
    "4103",
    "Inclusión social y productiva para la población en situación de vulnerabilidad",
    "Seguridad alimentaria de hogares vulnerables de Villa Esperanza",
    _bpin(63),
)
_AMB_AGRO = Program(
    PRODUCTIVA,
    "1702",
    "Inclusión productiva de pequeños productores rurales",
    "Fortalecimiento de la producción agropecuaria campesina de Villa Esperanza",
    _bpin(71),
)
_AMB_BIO = Program(
    PRODUCTIVA,
    "3202",
    "Conservación de la biodiversidad y sus servicios ecosistémicos",
    "Protección de las áreas de interés hídrico de Villa Esperanza",
    _bpin(72),
)
_GRD_P = Program(
    SEGURA,
    "4503",
    "Gestión del riesgo de desastres y emergencias",
    "Conocimiento y reducción del riesgo de desastres en Villa Esperanza",
    _bpin(81),
)
_DES_P = Program(BUEN_GOBIERNO, "4599", _GESTION, "Fortalecimiento de la gestión pública de Villa Esperanza", _bpin(91))
_GEN_P = Program(BUEN_GOBIERNO, "4599", _GESTION, "Modernización administrativa de Villa Esperanza", _bpin(92))
_PLA_P = Program(
    CONECTADA,
    "4002",
    "Ordenamiento territorial y desarrollo urbano",
    "Revisión del ordenamiento territorial de Villa Esperanza",
    _bpin(93),
)

DEPARTAMENTO = "Departamento de Santander"
SGR = "Sistema General de Regalías (SGR)"

# fmt: off
SAMPLE: dict[str, SampleDependencia] = {
    "HAC": SampleDependencia(
        people=(
            ("Jorge Iván Mejía Arango", "Subsecretario de Rentas"),
            ("Claudia Patricia Henao Vélez", "Tesorera General"),
            ("Luis Fernando Cardona Ruiz", "Profesional especializado de cobro coactivo"),
            ("Natalia Andrea Torres Gil", "Profesional universitaria de presupuesto"),
            ("Ana María Gómez Restrepo", "Profesional universitaria de rentas"),
        ),
        metas=(
            SampleMeta(
                "459914", _HAC_P,
                "Realizar 2.400 visitas de fiscalización a contribuyentes de industria y comercio",
                "Visitas de fiscalización realizadas", "Número", INCREMENTO, 0, 2400, 600, (100, 200, 200, 100),
                ("Actualizar el censo de contribuyentes de industria y comercio",
                 "Programar y realizar las visitas por sectores", "Liquidar los emplazamientos resultantes"),
                0, (2, 3, 0),
            ),
            SampleMeta(
                "459915", _HAC_P,
                "Pagar oportunamente el 100 % del servicio de la deuda pública",
                "Servicio de la deuda pagado a tiempo", "Porcentaje", MANTENIMIENTO, 100, 100, 100,
                (100, 100, 100, 100),
                ("Programar el PAC del servicio de la deuda", "Pagar las cuotas en las fechas pactadas",
                 "Reportar la deuda al CHIP y al SEUD"),
                1, (0, 4, 0),
            ),
            SampleMeta(
                "459909", _HAC_P,
                "Reducir en 10 puntos la cartera morosa del impuesto predial",
                "Cartera morosa del impuesto predial", "Porcentaje", REDUCCION, 30, 10, 5, (1.5, 1, 1.5, 1),
                ("Depurar la cartera del impuesto predial", "Adelantar el cobro persuasivo y coactivo",
                 "Suscribir acuerdos de pago con los deudores"),
                2, (3, 2, 0),
            ),
            SampleMeta(
                "459910", _HAC_P,
                "Mantener el indicador de desempeño fiscal por encima de 70 puntos",
                "Indicador de desempeño fiscal", "Índice", MANTENIMIENTO, 72, 70, 70, (70, 70, 70, 70),
                ("Cumplir los límites de gasto de la Ley 617 de 2000",
                 "Reportar a tiempo el FUT y la información fiscal", "Hacer seguimiento trimestral al indicador"),
                3, (0, 2, 0),
            ),
            SampleMeta(
                "459911", _HAC_P,
                "Realizar 12 campañas de cultura tributaria",
                "Campañas realizadas", "Eventos", INCREMENTO, 0, 12, 3, (1, 1, 0, 1),
                ("Campaña de descuento por pronto pago del predial", "Campaña de industria y comercio",
                 "Campaña de fin de año en medios locales"),
                4, (1, 0, 0),
            ),
            SampleMeta(
                "459908", _HAC_P,
                "Actualizar 1 estatuto tributario municipal",
                "Estatuto tributario actualizado", "Documentos", INCREMENTO, 0, 1, 1, (0, 0, 0, 1),
                ("Elaborar el diagnóstico normativo", "Socializar el proyecto de acuerdo",
                 "Presentar el proyecto al Concejo Municipal"),
                0, (2, 1, 0),
            ),
        ),
    ),
    "EDU": SampleDependencia(
        people=(
            ("Gloria Inés Zuluaga Marín", "Profesional universitaria de cobertura educativa"),
            ("Jaime Alberto Osorio Rendón", "Profesional universitario, líder del PAE"),
            ("Fabio Andrés Ocampo Serna", "Profesional universitario de infraestructura educativa"),
            ("Diana Carolina Pineda Mora", "Profesional universitaria de calidad educativa"),
            ("Luz Dary Cifuentes Lopera", "Técnica administrativa de cobertura"),
        ),
        metas=(
            SampleMeta(
                "220105", _EDU_P,
                "Vincular 2.400 niños, niñas y jóvenes por fuera del sistema al sistema educativo oficial",
                "Niños, niñas y jóvenes vinculados", "Estudiantes", INCREMENTO, 0, 2400, 600, (100, 200, 200, 100),
                ("Hacer la búsqueda activa casa a casa", "Asignar cupos en las instituciones educativas",
                 "Hacer seguimiento a la permanencia"),
                0, (2, 2, 0),
            ),
            SampleMeta(
                "220106", _EDU_P,
                "Mantener el Programa de Alimentación Escolar (PAE) para el 100 % de los estudiantes focalizados",
                "Estudiantes focalizados con PAE", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Contratar el operador del PAE", "Supervisar la entrega diaria de complementos",
                 "Sesionar el comité de alimentación escolar"),
                1, (6, 1, 4), "Nación – Unidad de Alimentos para Aprender (UApA)",
                ("Implementación del Programa de Alimentación Escolar en Villa Esperanza", _bpin(22)),
            ),
            SampleMeta(
                "220107", _EDU_P,
                "Reducir en 10 puntos el porcentaje de sedes educativas con infraestructura en mal estado",
                "Sedes educativas en mal estado", "Porcentaje", REDUCCION, 35, 10, 5, (1.5, 1, 1.5, 1),
                ("Priorizar las sedes según el diagnóstico de infraestructura",
                 "Contratar las obras y la interventoría", "Entregar las sedes intervenidas"),
                2, (5, 1, 2), SGR,
                ("Mejoramiento de la infraestructura de las sedes educativas de Villa Esperanza", _bpin(23)),
            ),
            SampleMeta(
                "220108", _EDU_P,
                "Conectar a internet 30 sedes educativas rurales",
                "Sedes educativas rurales conectadas", "Unidades", INCREMENTO, 6, 30, 12, (3, 3, 3, 3),
                ("Gestionar la conectividad con el operador", "Instalar los puntos en las sedes",
                 "Verificar el servicio con los rectores"),
                3, (1, 0, 1), "Nación – Ministerio de Tecnologías de la Información y las Comunicaciones",
            ),
            SampleMeta(
                "220102", _EDU_P,
                "Beneficiar 1.800 estudiantes con transporte escolar",
                "Estudiantes con transporte escolar", "Estudiantes", MANTENIMIENTO, 1800, 1800, 1800,
                (1800, 1800, 1800, 1800),
                ("Contratar las rutas rurales", "Verificar los listados de beneficiarios",
                 "Supervisar la prestación del servicio"),
                4, (2, 1, 1), DEPARTAMENTO,
                ("Servicio de transporte escolar rural en Villa Esperanza", _bpin(24)),
            ),
            SampleMeta(
                "220109", _EDU_P,
                "Formar 400 docentes y directivos docentes en competencias pedagógicas",
                "Docentes formados", "Personas", INCREMENTO, 0, 400, 100, (0, 40, 40, 20),
                ("Concertar el plan territorial de formación docente", "Desarrollar los diplomados",
                 "Evaluar la aplicación en el aula"),
                3, (1, 1, 0),
            ),
        ),
    ),
    "SAL": SampleDependencia(
        people=(
            ("Marcela Patricia Ruiz Ocampo", "Enfermera jefe, coordinadora del PAI"),
            ("Andrés Mauricio Cano Vargas", "Profesional universitario de aseguramiento"),
            ("Paola Andrea Ríos Zapata", "Psicóloga, profesional universitaria"),
            ("Wilson Javier Patiño Gil", "Técnico de saneamiento ambiental"),
        ),
        metas=(
            SampleMeta(
                "190501", _SAL_PUB,
                "Mantener coberturas de vacunación del 95 % en menores de 5 años",
                "Cobertura de vacunación", "Porcentaje", MANTENIMIENTO, 95, 95, 95, (95, 95, 95, 95),
                ("Hacer las jornadas nacionales de vacunación", "Vacunar casa a casa en la zona rural",
                 "Hacer seguimiento a las cohortes de nacidos vivos"),
                0, (3, 1, 1), DEPARTAMENTO,
            ),
            SampleMeta(
                "190601", _SAL_ASE,
                "Mantener la afiliación al régimen subsidiado del 100 % de la población elegible",
                "Población elegible afiliada", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Depurar la base de datos de afiliados", "Afiliar de oficio a la población elegible",
                 "Girar los recursos de esfuerzo propio a la ADRES"),
                1, (12, 0, 5), "Nación – Ministerio de Salud y Protección Social (ADRES)",
            ),
            SampleMeta(
                "190502", _SAL_PUB,
                "Realizar 60 jornadas de promoción de la salud mental",
                "Jornadas realizadas", "Jornadas", INCREMENTO, 0, 60, 15, (3, 4, 4, 4),
                ("Hacer jornadas en instituciones educativas", "Activar la ruta de atención en salud mental",
                 "Hacer seguimiento a los casos de intento de suicidio"),
                2, (1, 0, 0),
            ),
            SampleMeta(
                "190503", _SAL_PUB,
                "Realizar 200 visitas de inspección, vigilancia y control sanitario",
                "Visitas realizadas", "Número", INCREMENTO, 0, 200, 50, (10, 15, 15, 10),
                ("Visitar establecimientos de alimentos", "Tomar muestras de agua para consumo humano",
                 "Emitir los conceptos sanitarios"),
                3, (1, 1, 0),
            ),
        ),
    ),
    "GOB": SampleDependencia(
        people=(
            ("Ricardo León Bedoya Franco", "Subsecretario de Convivencia"),
            ("Sandra Liliana Echeverri Soto", "Inspectora de Policía"),
            ("Julián David Arango Mesa", "Profesional universitario de seguridad ciudadana"),
            ("Adriana María López Quintero", "Enlace municipal de víctimas"),
        ),
        metas=(
            SampleMeta(
                "450101", _GOB_SEG,
                "Implementar 1 plan integral de seguridad y convivencia ciudadana",
                "Plan implementado", "Documentos", MANTENIMIENTO, 1, 1, 1, (1, 1, 1, 1),
                ("Sesionar el consejo de seguridad", "Apoyar la operación de la Policía y el Ejército",
                 "Hacer seguimiento a los indicadores de delitos"),
                0, (3, 1, 1), DEPARTAMENTO,
            ),
            SampleMeta(
                "450102", _GOB_SEG,
                "Instalar 40 cámaras de videovigilancia",
                "Cámaras instaladas", "Unidades", INCREMENTO, 24, 40, 10, (0, 4, 4, 2),
                ("Definir los puntos con la Policía", "Instalar y conectar las cámaras al centro de monitoreo",
                 "Mantener las cámaras existentes"),
                2, (4, 0, 2), "Nación – Ministerio del Interior (FONSECON)",
                ("Ampliación del sistema de videovigilancia de Villa Esperanza", _bpin(43)),
            ),
            SampleMeta(
                "450103", _GOB_SEG,
                "Realizar 48 jornadas de convivencia y cultura ciudadana",
                "Jornadas realizadas", "Jornadas", INCREMENTO, 0, 48, 12, (3, 3, 3, 3),
                ("Convocar a las juntas de acción comunal", "Hacer las jornadas en barrios y veredas",
                 "Promover la mediación de conflictos"),
                0, (1, 1, 0),
            ),
            SampleMeta(
                "450203", _GOB_DDHH,
                "Atender 400 familias víctimas del conflicto armado con ayuda humanitaria",
                "Familias atendidas", "Familias", INCREMENTO, 0, 400, 100, (25, 25, 25, 25),
                ("Recibir las declaraciones con la Personería", "Entregar la ayuda humanitaria inmediata",
                 "Sesionar el comité de justicia transicional"),
                3, (2, 1, 0),
            ),
            SampleMeta(
                "450104", _GOB_SEG,
                "Atender el 100 % de las querellas policivas recibidas",
                "Querellas atendidas", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Radicar y repartir las querellas", "Hacer las audiencias del Código de Convivencia",
                 "Hacer seguimiento a las medidas correctivas"),
                1, (0, 2, 0),
            ),
        ),
    ),
    "INF": SampleDependencia(
        people=(
            ("Carlos Mario Restrepo Henao", "Subsecretario de Infraestructura"),
            ("Luisa Fernanda Cardona Mejía", "Ingeniera civil, profesional universitaria"),
            ("Juan Pablo Gaviria Toro", "Ingeniero sanitario, profesional universitario"),
            ("Héctor Fabio Vargas Londoño", "Técnico operativo de maquinaria"),
        ),
        metas=(
            SampleMeta(
                "240201", _INF_VIAS,
                "Mejorar 25 kilómetros de vías terciarias",
                "Vías terciarias mejoradas", "Kilómetros", INCREMENTO, 0, 25, 7, (1, 2, 2, 2),
                ("Priorizar los tramos con las juntas de acción comunal", "Contratar obras e interventoría",
                 "Recibir los tramos mejorados"),
                0, (5, 1, 4), "Nación – Instituto Nacional de Vías (INVÍAS)",
            ),
            SampleMeta(
                "240202", _INF_VIAS,
                "Construir 4.000 metros cuadrados de placa huella",
                "Placa huella construida", "Metros cuadrados", INCREMENTO, 0, 4000, 1200, (0, 400, 500, 300),
                ("Hacer los estudios y diseños", "Construir con la comunidad organizada",
                 "Liquidar los convenios solidarios"),
                1, (3, 0, 2), SGR,
                ("Construcción de placa huella en vías rurales de Villa Esperanza", _bpin(53)),
            ),
            SampleMeta(
                "400301", _INF_AGUA,
                "Construir 3.500 metros lineales de redes de alcantarillado",
                "Redes de alcantarillado construidas", "Metros lineales", INCREMENTO, 0, 3500, 900,
                (0, 300, 300, 300),
                ("Obtener los permisos ambientales", "Construir las redes", "Conectar las viviendas"),
                2, (3, 0, 1), "Departamento de Santander – Plan Departamental de Agua",
            ),
            SampleMeta(
                "240203", _INF_VIAS,
                "Hacer mantenimiento rutinario a 180 kilómetros de la red vial terciaria",
                "Vías con mantenimiento rutinario", "Kilómetros", MANTENIMIENTO, 180, 180, 180,
                (180, 180, 180, 180),
                ("Programar el banco de maquinaria", "Limpiar cunetas y alcantarillas",
                 "Atender los sitios críticos en temporada de lluvias"),
                3, (1, 1, 0),
            ),
            SampleMeta(
                "240204", _INF_VIAS,
                "Construir 4 puentes vehiculares en la zona rural",
                "Puentes construidos", "Unidades", INCREMENTO, 1, 4, 2, (0, 0, 1, 1),
                ("Hacer los estudios de suelos y diseños", "Construir los puentes", "Recibir las obras"),
                1, (2, 0, 1), SGR,
                ("Construcción de puentes vehiculares rurales en Villa Esperanza", _bpin(54)),
            ),
        ),
    ),
    "SOC": SampleDependencia(
        people=(
            ("Yolanda Patricia Gaviria Mesa", "Profesional universitaria de primera infancia"),
            ("Óscar Darío Muñoz Rendón", "Coordinador de los centros vida"),
            ("Martha Lucía Salazar Ríos", "Profesional universitaria de discapacidad"),
            ("Camilo Andrés Hoyos Betancur", "Profesional universitario de juventud"),
        ),
        metas=(
            SampleMeta(
                "410201", _SOC_INF,
                "Atender 1.200 niños y niñas en la estrategia De Cero a Siempre",
                "Niños y niñas atendidos", "Personas", MANTENIMIENTO, 1200, 1200, 1200, (1200, 1200, 1200, 1200),
                ("Focalizar a los niños y niñas con el ICBF", "Operar los hogares y centros de desarrollo infantil",
                 "Hacer seguimiento nutricional"),
                0, (3, 0, 2), "Nación – Instituto Colombiano de Bienestar Familiar (ICBF)",
            ),
            SampleMeta(
                "410401", _SOC_VUL,
                "Atender 850 personas mayores en centros vida",
                "Personas mayores atendidas", "Personas", MANTENIMIENTO, 850, 850, 850, (850, 850, 850, 850),
                ("Operar los centros vida urbano y rural", "Entregar el complemento alimentario",
                 "Hacer actividades de recreación y salud"),
                1, (4, 1, 1), DEPARTAMENTO,
            ),
            SampleMeta(
                "410402", _SOC_VUL,
                "Apoyar 300 personas con discapacidad con ayudas técnicas",
                "Personas apoyadas", "Personas", INCREMENTO, 0, 300, 80, (10, 30, 20, 20),
                ("Actualizar el registro de localización y caracterización", "Comprar las ayudas técnicas",
                 "Entregar las ayudas con acta"),
                2, (2, 0, 0),
            ),
            SampleMeta(
                "410202", _SOC_INF,
                "Realizar 16 encuentros de la plataforma municipal de juventud",
                "Encuentros realizados", "Eventos", INCREMENTO, 0, 16, 4, (1, 1, 1, 1),
                ("Convocar a los colectivos juveniles", "Hacer los encuentros", "Publicar las memorias"),
                3, (1, 1, 0),
            ),
            SampleMeta(
                "410301", _SOC_INC,
                "Beneficiar 1.800 hogares vulnerables con programas de seguridad alimentaria",
                "Hogares beneficiados", "Hogares", INCREMENTO, 0, 1800, 450, (100, 150, 100, 100),
                ("Focalizar los hogares con el SISBÉN", "Entregar las huertas y los insumos",
                 "Hacer el acompañamiento técnico"),
                2, (2, 1, 0),
            ),
        ),
    ),
    "AMB": SampleDependencia(
        people=(
            ("Germán Darío Álvarez Ospina", "Técnico agropecuario, coordinador de asistencia técnica"),
            ("Carolina Isabel Montoya Ruiz", "Profesional universitaria ambiental"),
            ("Edison Alberto Giraldo Ramírez", "Profesional universitario de desarrollo rural"),
        ),
        metas=(
            SampleMeta(
                "170201", _AMB_AGRO,
                "Brindar asistencia técnica agropecuaria a 900 productores rurales",
                "Productores asistidos", "Personas", INCREMENTO, 0, 900, 225, (50, 60, 60, 55),
                ("Inscribir a los productores", "Hacer las visitas a las fincas", "Hacer días de campo"),
                0, (3, 1, 1), DEPARTAMENTO,
            ),
            SampleMeta(
                "320201", _AMB_BIO,
                "Reforestar 120 hectáreas en áreas de interés hídrico",
                "Hectáreas reforestadas", "Hectáreas", INCREMENTO, 0, 120, 30, (0, 15, 0, 15),
                ("Producir el material vegetal", "Sembrar en las temporadas de lluvias",
                 "Hacer el mantenimiento de las plantaciones"),
                1, (2, 0, 2), "Corporación Autónoma Regional de Santander (CAS)",
            ),
            SampleMeta(
                "320202", _AMB_BIO,
                "Adquirir 80 hectáreas de predios para la protección de nacimientos de agua",
                "Hectáreas adquiridas", "Hectáreas", INCREMENTO, 0, 80, 20, (0, 0, 10, 10),
                ("Identificar los predios con la CAS", "Avaluar y negociar los predios",
                 "Escriturar los predios a nombre del municipio"),
                1, (3, 0, 0),
            ),
            SampleMeta(
                "170202", _AMB_AGRO,
                "Realizar 24 mercados campesinos",
                "Mercados campesinos realizados", "Eventos", INCREMENTO, 0, 24, 6, (1, 2, 1, 2),
                ("Convocar a las asociaciones de productores", "Hacer los mercados en el parque principal",
                 "Registrar las ventas de los productores"),
                2, (1, 1, 0),
            ),
        ),
    ),
    "GRD": SampleDependencia(
        people=(
            ("Fredy Alonso Marín Correa", "Profesional universitario de gestión del riesgo"),
            ("Liliana Patricia Toro Vélez", "Técnica operativa"),
        ),
        metas=(
            SampleMeta(
                "450301", _GRD_P,
                "Formular 1 plan municipal de gestión del riesgo de desastres actualizado",
                "Plan actualizado", "Documentos", INCREMENTO, 0, 1, 1, (0, 0, 1, 0),
                ("Actualizar los escenarios de riesgo", "Socializar con el consejo municipal",
                 "Adoptar el plan por decreto"),
                0, (1, 1, 0),
            ),
            SampleMeta(
                "450302", _GRD_P,
                "Atender el 100 % de las emergencias reportadas",
                "Emergencias atendidas", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Activar la sala de crisis", "Entregar ayudas humanitarias", "Hacer la evaluación de daños"),
                1, (2, 1, 1), DEPARTAMENTO,
            ),
            SampleMeta(
                "450303", _GRD_P,
                "Capacitar 2.000 personas en gestión del riesgo",
                "Personas capacitadas", "Personas", INCREMENTO, 0, 2000, 500, (100, 150, 150, 100),
                ("Capacitar a las juntas de acción comunal", "Hacer simulacros en instituciones educativas",
                 "Formar brigadas comunitarias"),
                0, (1, 0, 0),
            ),
        ),
    ),
    "DES": SampleDependencia(
        people=(
            ("Mónica Alejandra Rivera Gil", "Asesora de despacho"),
            ("Santiago José Uribe Duque", "Jefe de la Oficina de Control Interno"),
        ),
        metas=(
            SampleMeta(
                "459901", _DES_P,
                "Formular y hacer seguimiento al 100 % de los planes de acción institucionales",
                "Planes de acción con seguimiento", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Consolidar los planes de acción", "Presentar el seguimiento al consejo de gobierno",
                 "Publicar los informes en la página web"),
                0, (1, 1, 0),
            ),
            SampleMeta(
                "459902", _DES_P,
                "Realizar 16 rendiciones de cuentas a la ciudadanía en el cuatrienio",
                "Rendiciones de cuentas realizadas", "Eventos", INCREMENTO, 12, 16, 4, (1, 1, 1, 1),
                ("Preparar el informe de gestión", "Convocar a la ciudadanía", "Publicar las memorias"),
                1, (2, 0, 0),
            ),
        ),
    ),
    "JUR": SampleDependencia(
        people=(("Pedro Nel Sánchez Ríos", "Profesional especializado jurídico"),),
        metas=(
            SampleMeta(
                "459903", _DES_P,
                "Atender el 100 % de los procesos judiciales en contra del municipio",
                "Procesos judiciales atendidos", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
                ("Contestar las demandas en término", "Asistir a las audiencias",
                 "Actualizar el sistema de información litigiosa"),
                0, (0, 1, 0),
            ),
        ),
    ),
    "GEN": SampleDependencia(
        people=(
            ("Elkin Mauricio Pérez Arango", "Profesional universitario de talento humano"),
            ("Beatriz Helena Gómez Zapata", "Técnica de gestión documental"),
        ),
        metas=(
            SampleMeta(
                "459905", _GEN_P,
                "Implementar el programa de gestión documental en el 100 % de las dependencias",
                "Dependencias con gestión documental", "Porcentaje", INCREMENTO, 40, 100, 30, (5, 10, 10, 5),
                ("Organizar los archivos de gestión", "Aplicar las tablas de retención documental",
                 "Hacer las transferencias al archivo central"),
                1, (2, 1, 0),
            ),
            SampleMeta(
                "459906", _GEN_P,
                "Ejecutar 4 planes institucionales de capacitación y bienestar",
                "Planes ejecutados", "Documentos", MANTENIMIENTO, 1, 1, 1, (1, 1, 1, 1),
                ("Formular el plan institucional de capacitación", "Ejecutar las actividades de bienestar",
                 "Evaluar el impacto de la capacitación"),
                0, (0, 2, 0),
            ),
        ),
    ),
    "PLA": SampleDependencia(
        people=(("Alejandro José Cardona Villa", "Profesional especializado de ordenamiento territorial"),),
        metas=(
            SampleMeta(
                "400201", _PLA_P,
                "Revisar y ajustar 1 Plan Básico de Ordenamiento Territorial",
                "PBOT ajustado", "Documentos", INCREMENTO, 0, 1, 1, (0, 0, 0, 1),
                ("Elaborar el diagnóstico territorial", "Concertar con la autoridad ambiental",
                 "Presentar el proyecto al Concejo Municipal"),
                0, (3, 1, 0),
            ),
        ),
    ),
}

#: For a dependencia the sample does not know: institutional metas any office has (codes 459990 onwards).
GENERIC = SampleDependencia(
    people=(
        ("Ana María Gómez Restrepo", "Profesional universitaria"),
        ("Luis Fernando Cardona Ruiz", "Profesional especializado"),
        ("Claudia Patricia Henao Vélez", "Técnica administrativa"),
    ),
    metas=(
        SampleMeta(
            "459990", _GEN_P,
            "Atender el 100 % de las peticiones, quejas y reclamos en los términos de ley",
            "Peticiones atendidas a tiempo", "Porcentaje", MANTENIMIENTO, 100, 100, 100, (100, 100, 100, 100),
            ("Radicar y repartir las peticiones", "Responder en los términos de ley", "Publicar el informe de PQRS"),
            0, (1, 1, 0),
        ),
        SampleMeta(
            "459991", _GEN_P,
            "Realizar 12 jornadas de atención descentralizada en barrios y veredas",
            "Jornadas realizadas", "Jornadas", INCREMENTO, 0, 48, 12, (3, 3, 3, 3),
            ("Programar las jornadas con las juntas de acción comunal", "Hacer las jornadas",
             "Registrar las solicitudes atendidas"),
            1, (2, 0, 1), DEPARTAMENTO,
        ),
        SampleMeta(
            "459992", _GEN_P,
            "Reducir en 2 puntos la tasa de reclamaciones por el servicio",
            "Tasa de reclamaciones", "Tasa", REDUCCION, 12, 8, 2, (0.5, 0.5, 0.5, 0.5),
            ("Medir la satisfacción de los usuarios", "Ajustar los procedimientos de atención",
             "Capacitar a los servidores de atención al ciudadano"),
            2, (1, 1, 0),
        ),
    ),
)
# fmt: on
